import { once } from 'node:events';
import type { RpcServer } from '@proto/rpc';
import { type CommandSpec, intValue, stringValue } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { toJson } from '../json.js';
import type { Output } from '../output.js';
import { createDemoServer } from '../serve/demo-server.js';
import { DEFAULT_PASSWORD_ENV } from '../target.js';

/** Port `proto serve` listens on by default. */
export const DEFAULT_SERVE_PORT = 7400;

const spec: CommandSpec = {
  name: 'serve',
  usage: '',
  summary: 'run a demo rpc server on 127.0.0.1 to try the other commands against',
  positionals: [0, 0],
  options: {
    port: { type: 'string', arg: 'N', description: `listen on port N (default ${DEFAULT_SERVE_PORT}; 0 picks a free one)` },
    'password-env': { type: 'string', arg: 'NAME', description: `read the password from this environment variable (default ${DEFAULT_PASSWORD_ENV})` },
    json: { type: 'boolean', description: 'log as JSON lines' },
  },
  details: [
    'Serves math::add ({ a, b } → a + b), echo (returns its params; no contract), the stream',
    'count::up ({ n, intervalMs? } → 1..n), time::sleep ({ ms }: cancellable), demo::teapot (fails',
    'with ERR_REMOTE E_TEAPOT), a chat (every chat::* event a client publishes is broadcast to all),',
    'with describe: true. Ctrl+C stops it.',
    '',
    'Example (two terminals):',
    '  PROTO_PASSWORD=secret proto serve',
    `  PROTO_PASSWORD=secret proto call 127.0.0.1:${DEFAULT_SERVE_PORT} math::add '{"a":1,"b":2}'`,
  ].join('\n'),
};

function log(out: Output, event: string, fields: Record<string, unknown>, text: string): void {
  out.line(out.json ? toJson({ event, ...fields }) : text);
}

function watch(server: RpcServer, out: Output): void {
  server.on('authenticated', (peer) => log(out, 'authenticated', { peer: peer.id, address: peer.address }, `+ client ${peer.id} from ${peer.address ?? 'a unix socket'}`));
  server.on('close', (peer) => log(out, 'close', { peer: peer.id }, `- client ${peer.id} left`));
  server.on('authFailed', ({ address, reason }) => log(out, 'authFailed', { address, reason }, out.paint('yellow', `! refused ${address ?? 'a unix socket'}: ${reason}`)));
  server.on('error', (error) => log(out, 'error', { message: error.message }, out.paint('red', `! ${error.message}`)));
}

/** `proto serve [--port N] [--password-env NAME]`. */
export const serve: Command = {
  spec,
  async run(parsed, { io, out }) {
    const port = intValue(parsed, 'port', DEFAULT_SERVE_PORT, 0, 65535);
    const variable = stringValue(parsed, 'password-env') ?? DEFAULT_PASSWORD_ENV;
    const password = io.env[variable];
    if (password === undefined || password === '') throw new UsageError(`no password: set ${variable} (e.g. ${variable}=secret proto serve)`);
    const server = createDemoServer(password);
    watch(server, out);
    const address = await server.listen({ host: '127.0.0.1', port });
    const where = `127.0.0.1:${address.port ?? port}`;
    if (out.json) {
      out.line(toJson({ event: 'listening', host: '127.0.0.1', port: address.port }));
    } else {
      out.line(`${out.paint('green', 'proto serve')} listening on ${out.paint('bold', where)} (Ctrl+C stops)`);
      out.line(`try: proto call ${where} math::add '{"a":1,"b":2}'   (same ${variable} in that terminal)`);
      out.line(`     proto stream ${where} count::up '{"n":5}'   proto describe ${where}   proto sub ${where} 'chat::*'`);
    }
    if (!io.signal.aborted) await once(io.signal, 'abort');
    await server.close({ timeoutMs: 2000 });
    log(out, 'closed', {}, 'closed');
    return ExitCode.OK;
  },
};
