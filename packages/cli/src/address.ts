import { UsageError } from './errors.js';

/** Where to connect, from `host:port`, `tcp://host:port`, `tls://host:port` or `unix:/path`. */
export type Address =
  | { readonly transport: 'tcp' | 'tls'; readonly host: string; readonly port: number }
  | { readonly transport: 'unix'; readonly path: string };

const HOST_PORT = /^(?:\[([^\]]+)\]|([^:[\]/]+)):(\d{1,5})$/;

/**
 * Parse an address argument. A bare `host:port` is TCP; IPv6 hosts go in brackets
 * (`[::1]:7400`); `unix:` takes the rest as a path (`unix:/run/app.sock`, `unix:./app.sock`).
 * @throws UsageError when it is none of these.
 */
export function parseAddress(text: string): Address {
  if (text.startsWith('unix:')) {
    // `unix:///run/app.sock` (URL style) is `/run/app.sock` too.
    const path = text.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new UsageError('unix: needs a socket path, e.g. unix:/tmp/app.sock');
    return { transport: 'unix', path };
  }
  let transport: 'tcp' | 'tls' = 'tcp';
  let rest = text;
  const scheme = /^([a-z]+):\/\//i.exec(text);
  if (scheme !== null) {
    const name = scheme[1]!.toLowerCase();
    if (name !== 'tcp' && name !== 'tls') throw new UsageError(`unknown address scheme ${name}:// (use tcp://, tls:// or unix:)`);
    transport = name;
    rest = text.slice(scheme[0].length);
  }
  const match = HOST_PORT.exec(rest);
  const port = match === null ? Number.NaN : Number(match[3]);
  if (match === null || port < 1 || port > 65535) {
    throw new UsageError(`bad address ${JSON.stringify(text)}: expected host:port, tcp://host:port, tls://host:port or unix:/path`);
  }
  return { transport, host: match[1] ?? match[2]!, port };
}

/** The canonical form of an address, for messages. */
export function formatAddress(address: Address): string {
  if (address.transport === 'unix') return `unix:${address.path}`;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${address.transport}://${host}:${address.port}`;
}
