#!/usr/bin/env node
import { run } from './run.js';

// Ctrl+C or SIGTERM once: long-running commands (sub, serve, bench) stop cleanly. A second one
// exits at once, as users expect.
const controller = new AbortController();
const stop = (signal: NodeJS.Signals): void => {
  if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
  controller.abort();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// The reader of the output went away (`proto sub ... | head -1`): stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

run(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal }).then(
  (code) => {
    process.exitCode = code;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    // Everything is closed and flushed by now; do not let a stray handle keep the shell waiting.
    setTimeout(() => process.exit(code), 2000).unref();
  },
);
