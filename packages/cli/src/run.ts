import { createRequire } from 'node:module';
import { helpText, parseCommand } from './args.js';
import type { Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { UsageError } from './errors.js';
import { ExitCode, exitCodeOf } from './exit-codes.js';
import { type CliIo, flushed } from './io.js';
import { Output } from './output.js';
import { errorLine } from './report.js';
import { StdinReader } from './stdin.js';

function version(): string {
  // ../package.json from both src/ and dist/.
  const manifest = createRequire(import.meta.url)('../package.json') as { version: string };
  return manifest.version;
}

function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.spec.name.length)) + 2;
  return [
    'Usage: proto COMMAND ARGS... [options]',
    '',
    'Call, stream, subscribe, publish, ping, describe, benchmark and serve @proto/rpc servers',
    '(sub and pub also speak to plain @proto/ns servers with --ns).',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.spec.name.padEnd(width)}${command.spec.summary}`),
    '',
    'Addresses: host:port, tcp://host:port, tls://host:port, unix:/path',
    'Password:  from $PROTO_PASSWORD, --password-env NAME or --password-stdin (never an argument)',
    'Exit:      0 ok, 1 remote error, 2 usage, 3 connection or authentication failure, 4 timeout',
    '',
    'Run proto COMMAND --help for the options of a command.',
    '',
  ].join('\n');
}

/**
 * Run the `proto` command line `argv` (without `node` and the script) against `io`.
 * Never throws: failures are printed as one line on stderr and turned into the exit code.
 * @returns the exit code (see {@link ExitCode}).
 */
export async function run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const stdin = new StdinReader(io.stdin);
  const json = argv.includes('--json');
  const out = new Output(io, json);
  try {
    const [name, ...rest] = argv;
    if (name === undefined) {
      io.stderr.write(globalHelp());
      return ExitCode.USAGE;
    }
    if (name === '--help' || name === '-h' || name === 'help') {
      io.stdout.write(globalHelp());
      return ExitCode.OK;
    }
    if (name === '--version' || name === '-v') {
      out.line(version());
      return ExitCode.OK;
    }
    const command: Command | undefined = COMMANDS.find((candidate) => candidate.spec.name === name);
    if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)} (see proto --help)`);
    const parsed = parseCommand(command.spec, rest);
    if (parsed === undefined) {
      io.stdout.write(helpText(command.spec));
      return ExitCode.OK;
    }
    return await command.run(parsed, { io, out, stdin });
  } catch (error) {
    out.note(errorLine(error, json));
    return exitCodeOf(error);
  } finally {
    out.clearProgress();
    await stdin.close();
    await Promise.all([flushed(io.stdout), flushed(io.stderr)]);
  }
}
