/** The one-way message every contender sends: event ['bench','msg'] with a small JSON object. */
export const EVENT = ['bench', 'msg'] as const;
export const EVENT_STRING = 'bench::msg';
export const TEXT = 'hello world';

/** Rough JSON size of one message's data, for reference. */
export const APPROX_DATA_BYTES = JSON.stringify({ i: 1_000_000, s: TEXT }).length;
