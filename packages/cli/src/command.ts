import type { CommandSpec, Parsed } from './args.js';
import type { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import type { Output } from './output.js';
import type { StdinReader } from './stdin.js';

/** What a running subcommand gets. */
export interface CommandContext {
  readonly io: CliIo;
  readonly out: Output;
  /** stdin, read only if the command asks (`--password-stdin`, `-` params). */
  readonly stdin: StdinReader;
}

/** A subcommand: its command line and what it does. Failures are thrown (the runner prints them). */
export interface Command {
  readonly spec: CommandSpec;
  run(parsed: Parsed, ctx: CommandContext): Promise<ExitCode>;
}
