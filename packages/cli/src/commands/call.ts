import { type CommandSpec, flagValue, intValue } from '../args.js';
import type { Command } from '../command.js';
import { connectRpc } from '../connect.js';
import { ExitCode } from '../exit-codes.js';
import { toJson } from '../json.js';
import { readJsonArgument } from '../params.js';
import { CONNECTION_OPTIONS, resolveTarget } from '../target.js';

/** Default `--timeout` of commands that wait for one answer. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** `timeout` for commands waiting for one answer. */
export const ANSWER_TIMEOUT = {
  timeout: { type: 'string', arg: 'MS', description: `wait MS for the answer (default ${DEFAULT_TIMEOUT_MS}; 0: no limit; exit 4)` },
} as const;

const spec: CommandSpec = {
  name: 'call',
  usage: 'ADDR METHOD [JSON]',
  summary: 'call METHOD with JSON params and print the result as JSON',
  positionals: [2, 3],
  options: { ...ANSWER_TIMEOUT, ...CONNECTION_OPTIONS },
  details: [
    'JSON is the params as JSON text, @FILE to read them from a file, or - to read them from stdin.',
    'The result is printed as JSON (indented; one line with --json). A remote error exits 1 with',
    'its code on stderr: ERR_REMOTE E_TEAPOT: ...',
    '',
    'Examples:',
    `  proto call 127.0.0.1:7400 math::add '{"a":1,"b":2}'`,
    '  proto call tls://db.internal:7400 users::get @query.json --ca ca.pem',
    `  echo '"hi"' | proto call unix:/tmp/app.sock echo -`,
  ].join('\n'),
};

/** `proto call ADDR METHOD [JSON]`. */
export const call: Command = {
  spec,
  async run(parsed, { io, out, stdin }) {
    const [address, method, paramsText] = parsed.positionals as [string, string, string | undefined];
    const timeoutMs = intValue(parsed, 'timeout', DEFAULT_TIMEOUT_MS);
    const target = await resolveTarget(parsed, address, io.env, stdin);
    const params = await readJsonArgument(paramsText, stdin);
    const client = await connectRpc(target);
    try {
      const result = await client.request(method, params, { timeoutMs });
      out.line(flagValue(parsed, 'json') ? toJson(result) : toJson(result, 2));
    } finally {
      client.destroy();
    }
    return ExitCode.OK;
  },
};
