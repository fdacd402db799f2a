import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

/** One option of a subcommand. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** One-letter alias (`-h`). */
  readonly short?: string;
  /** Placeholder of the value in the help (`--count N`). */
  readonly arg?: string;
  /** One line of help. */
  readonly description: string;
}

/** Options by long name (without `--`). */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The command line shape of a subcommand, from which parsing and `--help` are both made. */
export interface CommandSpec {
  /** `call`, `stream`, ... */
  readonly name: string;
  /** Positional arguments as the help shows them: `ADDR METHOD [JSON]`. */
  readonly usage: string;
  /** One line: what the command does. */
  readonly summary: string;
  /** More help text (examples), printed after the options. */
  readonly details?: string;
  /** How many positionals it takes: [min, max] (max `Infinity` for any number). */
  readonly positionals: readonly [number, number];
  readonly options: OptionSpecs;
}

/** Option values (`undefined` when absent) and positionals of a parsed command line. */
export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

/**
 * Parse `argv` (what follows the subcommand) with `node:util`'s `parseArgs` in strict mode.
 * @returns `undefined` when `--help` was given (the caller prints {@link helpText}).
 * @throws UsageError for an unknown option, a missing option value or a wrong number of positionals.
 */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): Parsed | undefined {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, option] of Object.entries({ ...spec.options, help: HELP })) {
    options[name] = option.short === undefined ? { type: option.type } : { type: option.type, short: option.short };
  }
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (error) {
    // parseArgs' messages go on about '--' after the first sentence: keep the first one.
    const message = (error as Error).message.split(/\.\s|\n/)[0];
    throw new UsageError(`${message} (see proto ${spec.name} --help)`);
  }
  if (parsed.values.help === true) return undefined;
  const [min, max] = spec.positionals;
  const count = parsed.positionals.length;
  if (count < min) throw new UsageError(`proto ${spec.name} needs ${spec.usage} (see proto ${spec.name} --help)`);
  if (count > max) throw new UsageError(`proto ${spec.name}: unexpected argument ${JSON.stringify(parsed.positionals[max])} (see proto ${spec.name} --help)`);
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals };
}

/** The `--help` text of a subcommand. */
export function helpText(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.options, help: HELP }).map(([name, option]) => {
    const flag = `${option.short === undefined ? '    ' : `-${option.short}, `}--${name}${option.arg === undefined ? '' : ` ${option.arg}`}`;
    return [flag, option.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  const lines = [
    `Usage: proto ${spec.name} ${spec.usage} [options]`,
    '',
    spec.summary,
    '',
    'Options (after the arguments):',
    ...rows.map(([flag, description]) => `  ${flag.padEnd(width)}${description}`),
  ];
  if (spec.details !== undefined) lines.push('', spec.details);
  return `${lines.join('\n')}\n`;
}

/** A string option's value, or `undefined`. */
export function stringValue(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Whether a boolean option was given. */
export function flagValue(parsed: Parsed, name: string): boolean {
  return parsed.values[name] === true;
}

/** A whole-number option in `[min, max]`, or `fallback` when absent. */
export function intValue(parsed: Parsed, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const text = stringValue(parsed, name);
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be a whole number ${range}, not ${JSON.stringify(text)}`);
  }
  return value;
}

/** A positive decimal option (`--duration 0.5`), or `fallback` when absent. */
export function positiveNumberValue(parsed: Parsed, name: string, fallback: number): number {
  return decimalValue(parsed, name, fallback, false);
}

/** A decimal option that may be 0 (`--warmup 0`); `fallback` when absent. */
export function nonNegativeNumberValue(parsed: Parsed, name: string, fallback: number): number {
  return decimalValue(parsed, name, fallback, true);
}

function decimalValue(parsed: Parsed, name: string, fallback: number, zero: boolean): number {
  const text = stringValue(parsed, name);
  if (text === undefined) return fallback;
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || !(zero ? value >= 0 : value > 0)) {
    throw new UsageError(`--${name} must be a ${zero ? 'number >= 0' : 'positive number'}, not ${JSON.stringify(text)}`);
  }
  return value;
}
