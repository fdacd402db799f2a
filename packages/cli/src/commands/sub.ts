import { EVENT_DELIMITER } from '@proto/ns';
import { ConnectionClosedError, RpcClient } from '@proto/rpc';
import { formatAddress } from '../address.js';
import { type CommandSpec, flagValue, intValue } from '../args.js';
import type { Command } from '../command.js';
import { connectNs, connectRpc } from '../connect.js';
import { CliTimeoutError } from '../errors.js';
import { matchesPattern } from '../event-pattern.js';
import { ExitCode } from '../exit-codes.js';
import { toJson } from '../json.js';
import { CONNECTION_OPTIONS, NS_OPTION, resolveTarget } from '../target.js';

const spec: CommandSpec = {
  name: 'sub',
  usage: 'ADDR PATTERN...',
  summary: 'print the events matching PATTERNs as {"event":[...],"data":...} lines',
  positionals: [2, Number.POSITIVE_INFINITY],
  options: {
    count: { type: 'string', arg: 'N', description: 'exit (0) after N events' },
    timeout: { type: 'string', arg: 'MS', description: 'exit 4 if still running after MS (default: until Ctrl+C)' },
    ...NS_OPTION,
    ...CONNECTION_OPTIONS,
  },
  details: [
    'PATTERN: * matches one segment, ** any number (chat::*, **). Raw bytes print as',
    '{"$base64":"..."}. Runs until Ctrl+C (exit 0), --count, --timeout, or the link is lost (exit 3).',
    '',
    'Examples:',
    `  proto sub 127.0.0.1:7400 'chat::*'`,
    `  proto sub unix:/tmp/events.sock '**' --ns --count 10`,
  ].join('\n'),
};

function ignore(): void {}

/** `proto sub ADDR PATTERN... [--count N] [--timeout MS] [--ns]`. */
export const sub: Command = {
  spec,
  async run(parsed, { io, out, stdin }) {
    const [address, ...patterns] = parsed.positionals as [string, ...string[]];
    const count = intValue(parsed, 'count', 0, 1);
    const timeoutMs = intValue(parsed, 'timeout', 0, 1);
    const ns = flagValue(parsed, 'ns');
    const target = await resolveTarget(parsed, address, io.env, stdin, ns);
    const endpoint = ns ? await connectNs(target) : await connectRpc(target);
    const onClose = (listener: (error?: Error) => void): void => {
      if (endpoint instanceof RpcClient) endpoint.once('close', listener);
      else endpoint.once('close', listener);
    };
    let received = 0;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const print = (data: unknown, event: readonly string[]): void => {
          // Events that arrived in the same chunk as the count-th one are not printed.
          if (count > 0 && received >= count) return;
          out.line(toJson({ event, data }));
          received++;
          if (received === count) resolve();
        };
        if (patterns.length === 1) endpoint.data(patterns[0]!, print);
        else {
          // One listener per pattern would print an event once for each pattern it matches.
          const split = patterns.map((pattern) => {
            endpoint.data(pattern, ignore); // refuses an invalid pattern as a single one would be
            endpoint.offData(pattern, ignore);
            return pattern.split(EVENT_DELIMITER);
          });
          endpoint.data('**', (data: unknown, event: readonly string[]) => {
            if (split.some((pattern) => matchesPattern(pattern, event))) print(data, event);
          });
        }
        if (!out.json) out.note(out.paintErr('dim', `subscribed to ${patterns.join(' ')} on ${formatAddress(target.address)} (Ctrl+C stops)`));
        onClose((error) => reject(error ?? new ConnectionClosedError('the server closed the connection')));
        onAbort = resolve;
        io.signal.addEventListener('abort', onAbort, { once: true });
        if (io.signal.aborted) resolve();
        if (timeoutMs > 0) {
          timer = setTimeout(() => reject(new CliTimeoutError(`--timeout ${timeoutMs} ms passed after ${received}${count > 0 ? ` of ${count}` : ''} events`)), timeoutMs);
        }
      });
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) io.signal.removeEventListener('abort', onAbort);
      endpoint.destroy();
    }
    return ExitCode.OK;
  },
};
