import { DESCRIBE_METHOD, type DescribeResult, MethodNotFoundError } from '@proto/rpc';
import { formatAddress } from '../address.js';
import { type CommandSpec, intValue } from '../args.js';
import type { Command } from '../command.js';
import { connectRpc } from '../connect.js';
import { ExitCode } from '../exit-codes.js';
import { toJson } from '../json.js';
import { schemaText } from '../schema-text.js';
import type { Output } from '../output.js';
import { CONNECTION_OPTIONS, resolveTarget } from '../target.js';
import { ANSWER_TIMEOUT, DEFAULT_TIMEOUT_MS } from './call.js';

const spec: CommandSpec = {
  name: 'describe',
  usage: 'ADDR',
  summary: 'list the methods a server publishes, with their contracts (servers opt in with describe: true)',
  positionals: [1, 1],
  options: { ...ANSWER_TIMEOUT, ...CONNECTION_OPTIONS },
  details: [
    'The server must be created with new RpcServer({ describe: true }); otherwise this exits 1 with',
    'ERR_METHOD_NOT_FOUND. Contracts print as short types; --json prints the full JSON Schemas.',
    '',
    'Examples:',
    '  proto describe 127.0.0.1:7400',
    '  proto describe unix:/tmp/app.sock --json',
  ].join('\n'),
};

function printMethods(out: Output, address: string, answer: DescribeResult): void {
  out.line(`${answer.methods.length} method${answer.methods.length === 1 ? '' : 's'} on ${address}`);
  const width = Math.max(0, ...answer.methods.map((method) => method.name.length)) + 2;
  for (const method of answer.methods) {
    const name = out.paint('bold', method.name.padEnd(width));
    const schemas = method.schemas;
    if (schemas === undefined) {
      out.line(`  ${name}${out.paint('dim', method.kind === 'stream' ? 'stream, no contract' : 'no contract')}`);
      continue;
    }
    const params = schemas.params === undefined ? 'unknown' : schemaText(schemas.params);
    const answerType = method.kind === 'stream' ? `stream of ${schemaText(schemas.item)}` : schemaText(schemas.result);
    const input = schemas.input === undefined ? '' : `, input stream of ${schemaText(schemas.input)}`;
    out.line(`  ${name}${params}${input} ${out.paint('dim', '→')} ${out.paint('cyan', answerType)}`);
  }
}

/** `proto describe ADDR`. */
export const describe: Command = {
  spec,
  async run(parsed, { io, out, stdin }) {
    const timeoutMs = intValue(parsed, 'timeout', DEFAULT_TIMEOUT_MS);
    const target = await resolveTarget(parsed, parsed.positionals[0]!, io.env, stdin);
    const client = await connectRpc(target);
    let answer: DescribeResult;
    try {
      answer = (await client.request(DESCRIBE_METHOD, undefined, { timeoutMs })) as DescribeResult;
    } catch (error) {
      if (error instanceof MethodNotFoundError) {
        throw new MethodNotFoundError('the server does not publish its methods (it needs new RpcServer({ describe: true }))', DESCRIBE_METHOD, { cause: error });
      }
      throw error;
    } finally {
      client.destroy();
    }
    if (out.json) out.line(toJson(answer));
    else printMethods(out, formatAddress(target.address), answer);
    return ExitCode.OK;
  },
};
