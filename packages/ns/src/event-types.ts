/**
 * Maps event names (segments joined with `::`) to the type of their data, for typed
 * `send`/`data`: `NsSocket<{ 'chat::message': { text: string } }>`. An interface works too.
 */
export type EventMap = object;

/** The untyped map: any event name, data of unknown type. */
export type DefaultEvents = { [event: string]: unknown };

/** `'a::b::c'` as the tuple `['a', 'b', 'c']`. */
export type EventSegments<S extends string> = string extends S
  ? readonly string[]
  : S extends `${infer Head}::${infer Tail}`
    ? readonly [Head, ...EventSegments<Tail>]
    : readonly [S];

/** Event names of a map. */
export type EventName<Events extends EventMap> = keyof Events & string;

/** An event of the map, as a `::` string or as its segments. */
export type EventKey<Events extends EventMap> = {
  [K in EventName<Events>]: K | EventSegments<K>;
}[EventName<Events>];

type SegmentsOf<E> = E extends string ? SplitMutable<E> : E extends readonly string[] ? E : never;
type SplitMutable<S extends string> = string extends S
  ? string[]
  : S extends `${infer Head}::${infer Tail}`
    ? [Head, ...SplitMutable<Tail>]
    : [S];

/** Whether the pattern segments `P` (with `*`, `**`) match the event segments `E`, as EventEmitter2 does. */
type Matches<P extends readonly string[], E extends readonly string[]> = P extends readonly []
  ? E extends readonly []
    ? true
    : false
  : P extends readonly [infer Head extends string, ...infer Rest extends string[]]
    ? Head extends '**'
      ? Matches<Rest, E> extends true
        ? true
        : E extends readonly [string, ...infer ERest extends string[]]
          ? Matches<P, ERest>
          : false
      : E extends readonly [infer EHead extends string, ...infer ERest extends string[]]
        ? Head extends '*'
          ? Matches<Rest, ERest>
          : Head extends EHead
            ? Matches<Rest, ERest>
            : false
        : false
    : false;

/** Event names of `Events` a listener pattern matches. */
export type MatchingEvents<Events extends EventMap, Pattern> = {
  [K in EventName<Events>]: Matches<SegmentsOf<Pattern>, SplitMutable<K>> extends true ? K : never;
}[EventName<Events>];

/**
 * Data a listener on `Pattern` receives: the union over the events it matches, `unknown` when the map
 * is untyped or the pattern is not a literal.
 */
export type PatternData<Events extends EventMap, Pattern> = string extends EventName<Events>
  ? Events[EventName<Events>]
  : [MatchingEvents<Events, Pattern>] extends [never]
    ? unknown
    : Events[MatchingEvents<Events, Pattern>];

/** A listener pattern: an event name, or segments where `*` matches one segment and `**` any number. */
export type EventPattern = string | readonly string[];

/** Listener of `data()`: the event's data (a Buffer for binary events) and its segments. */
export type DataListener<Data = unknown> = (data: Data, event: string[]) => void;

type JoinSegments<T> = T extends readonly [infer Head extends string]
  ? Head
  : T extends readonly [infer Head extends string, ...infer Rest]
    ? `${Head}::${JoinSegments<Rest>}`
    : string;

/** Data type of the event `E` (a `::` string or segments) in `Events`. */
export type EventData<Events extends EventMap, E> = E extends string
  ? E extends keyof Events
    ? Events[E]
    : unknown
  : JoinSegments<E> extends keyof Events
    ? Events[JoinSegments<E>]
    : unknown;

/** The data argument of `send`: optional when the event's data type admits `undefined`. */
export type SendArgs<Events extends EventMap, E> = undefined extends EventData<Events, E>
  ? [data?: EventData<Events, E>]
  : [data: EventData<Events, E>];
