// The chat's events, shared by server and client. Typing the event map makes send() and data()
// check event names and data at compile time; on the wire they are ordinary ns events.

/** Events a client sends to the server. */
export type ClientEvents = {
  /** Sent on every (re)connect, so the server knows who is on this connection. */
  'chat::hello': { name: string };
  /** A line typed by the user. It carries the name: a line queued offline may reach a new server before the hello. */
  'chat::say': { name: string; text: string };
  /** Raw bytes (a "file"): sent as a Buffer, no JSON, no base64. */
  'file::chunk': Buffer;
};

/** Events the server sends to every client (a namespace of their own, so each side's wildcards see only the other's). */
export type ServerEvents = {
  'room::message': { from: string; text: string };
  'room::joined': { name: string };
  'room::left': { name: string };
  'room::file': { from: string; bytes: number };
};

/** Both directions: an ns socket carries events either way, and its type map covers both. */
export type ChatEvents = ClientEvents & ServerEvents;

export const DEFAULT_PORT = 7070;

/** `--name value` from argv, else the fallback. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
