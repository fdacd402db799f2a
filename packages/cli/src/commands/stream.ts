import { type CommandSpec, intValue, stringValue } from '../args.js';
import type { Command } from '../command.js';
import { connectRpc } from '../connect.js';
import { ExitCode } from '../exit-codes.js';
import { toJson } from '../json.js';
import { readJsonArgument } from '../params.js';
import type { StdinReader } from '../stdin.js';
import { UsageError } from '../errors.js';
import { CONNECTION_OPTIONS, resolveTarget } from '../target.js';

const spec: CommandSpec = {
  name: 'stream',
  usage: 'ADDR METHOD [JSON]',
  summary: 'open the stream METHOD and print each item as one JSON line',
  positionals: [2, 3],
  options: {
    timeout: { type: 'string', arg: 'MS', description: 'a deadline for the whole stream (default none; exit 4)' },
    'high-water-mark': { type: 'string', arg: 'N', description: 'items the server may send ahead of the output (default 16)' },
    input: { type: 'string', arg: '-', description: "send stdin's JSON lines as the stream's input items (client or bidirectional streams)" },
    ...CONNECTION_OPTIONS,
  },
  details: [
    'Items print as they arrive, one JSON value per line (raw bytes as {"$base64":"..."}); a slow',
    'reader of the output holds the server at its yield (credit-based flow control). Ctrl+C cancels',
    'the stream on the server (its generator is closed) and exits 0. A handler error after some',
    'items prints those items, then the error line (exit 1).',
    '',
    'Examples:',
    `  proto stream 127.0.0.1:7400 count::up '{"n":5}'`,
    `  proto stream unix:/tmp/logs.sock logs::tail '{"file":"app"}' | grep ERROR`,
    `  printf '1\\n2\\n3\\n' | proto stream 127.0.0.1:7400 math::running-sum --input -`,
  ].join('\n'),
};

/** stdin's lines as JSON values, for `--input -`. */
async function* jsonLines(stdin: StdinReader): AsyncGenerator<unknown> {
  for await (const line of stdin.lines()) {
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as unknown;
    } catch (error) {
      throw new UsageError(`invalid input JSON line ${JSON.stringify(line.slice(0, 80))}: ${(error as Error).message}`);
    }
  }
}

/** `proto stream ADDR METHOD [JSON] [--timeout MS] [--input -]`. */
export const stream: Command = {
  spec,
  async run(parsed, { io, out, stdin }) {
    const [address, method, paramsText] = parsed.positionals as [string, string, string | undefined];
    const timeoutMs = intValue(parsed, 'timeout', 0);
    const highWaterMark = intValue(parsed, 'high-water-mark', 16, 1);
    const input = stringValue(parsed, 'input');
    if (input !== undefined && input !== '-') throw new UsageError('--input takes - (JSON lines on stdin)');
    if (input !== undefined && paramsText === '-') throw new UsageError('stdin cannot carry both the params (-) and --input');
    const target = await resolveTarget(parsed, address, io.env, stdin);
    const params = await readJsonArgument(paramsText, stdin);
    const client = await connectRpc(target);
    try {
      const items = client.stream(method, params, {
        signal: io.signal,
        highWaterMark,
        ...(timeoutMs > 0 ? { timeoutMs } : {}),
        ...(input === undefined ? {} : { input: jsonLines(stdin) }),
      });
      for await (const item of items) {
        out.line(toJson(item));
        // Wait for the terminal or pipe to take the line: a slow reader holds the server.
        await out.drained();
      }
    } catch (error) {
      // Ctrl+C: the user ended the stream (cancelled on the server); not a failure.
      if (io.signal.aborted && (error as { code?: unknown }).code === 'ERR_ABORTED') return ExitCode.OK;
      throw error;
    } finally {
      client.destroy();
    }
    return ExitCode.OK;
  },
};
