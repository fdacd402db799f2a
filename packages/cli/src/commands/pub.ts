import type { NsSocket } from '@proto/ns';
import type { RpcClient } from '@proto/rpc';
import { type CommandSpec, flagValue, intValue } from '../args.js';
import type { Command } from '../command.js';
import { connectNs, connectRpc } from '../connect.js';
import { ExitCode } from '../exit-codes.js';
import { withDeadline } from '../deadline.js';
import { toJson } from '../json.js';
import { readJsonArgument } from '../params.js';
import { CONNECTION_OPTIONS, NS_OPTION, resolveTarget } from '../target.js';
import { DEFAULT_TIMEOUT_MS } from './call.js';

/** A method no server handles: its answer (`ERR_METHOD_NOT_FOUND`) is a round trip. */
export const PROBE_METHOD = '$rpc::ping';

const spec: CommandSpec = {
  name: 'pub',
  usage: 'ADDR EVENT JSON',
  summary: 'send the event EVENT with JSON data (to an rpc server, or a plain ns server with --ns)',
  positionals: [3, 3],
  options: {
    count: { type: 'string', arg: 'N', description: 'send it N times (default 1)' },
    timeout: { type: 'string', arg: 'MS', description: `wait MS for the server to take the events (default ${DEFAULT_TIMEOUT_MS}; 0: no limit)` },
    ...NS_OPTION,
    ...CONNECTION_OPTIONS,
  },
  details: [
    'EVENT is a name like chat::message (no wildcards). JSON as for call: text, @FILE or -.',
    'Exits once everything was handed to the server. An rpc server receives it with',
    'server.data(pattern, ...); proto serve broadcasts chat::* events to every client.',
    '',
    'Examples:',
    `  proto pub 127.0.0.1:7400 chat::message '{"text":"hello"}'`,
    `  proto pub 127.0.0.1:7500 jobs::tick '{}' --count 100 --ns`,
  ].join('\n'),
};

async function publishRpc(client: RpcClient, event: string, data: unknown, count: number, timeoutMs: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    // RpcClient has no drained(): a round trip proves the server has read everything sent before it.
    if (!client.send(event, data)) await client.request(PROBE_METHOD, undefined, { timeoutMs }).catch(probeAnswered);
  }
  await client.request(PROBE_METHOD, undefined, { timeoutMs }).catch(probeAnswered);
}

/** The probe's expected answer is `ERR_METHOD_NOT_FOUND`; anything else is a real failure. */
export function probeAnswered(error: unknown): void {
  if ((error as { code?: unknown }).code !== 'ERR_METHOD_NOT_FOUND') throw error;
}

async function publishNs(socket: NsSocket, event: string, data: unknown, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (!socket.send(event, data)) await socket.drained();
  }
}

/** `proto pub ADDR EVENT JSON [--count N]`. */
export const pub: Command = {
  spec,
  async run(parsed, { io, out, stdin }) {
    const [address, event, dataText] = parsed.positionals as [string, string, string];
    const count = intValue(parsed, 'count', 1, 1);
    const timeoutMs = intValue(parsed, 'timeout', DEFAULT_TIMEOUT_MS);
    const ns = flagValue(parsed, 'ns');
    const target = await resolveTarget(parsed, address, io.env, stdin, ns);
    const data = await readJsonArgument(dataText, stdin, 'data');
    if (ns) {
      const socket = await connectNs(target);
      try {
        const sent = publishNs(socket, event, data, count).then(() => socket.end());
        await withDeadline(sent, timeoutMs, `the server did not take the events within --timeout ${timeoutMs} ms`);
      } finally {
        socket.destroy();
      }
    } else {
      const client = await connectRpc(target);
      try {
        await publishRpc(client, event, data, count, timeoutMs);
        await client.close({ timeoutMs });
      } finally {
        client.destroy();
      }
    }
    const segments = event.split('::');
    out.line(out.json ? toJson({ event: segments, sent: count }) : `sent ${count} × ${event}`);
    return ExitCode.OK;
  },
};
