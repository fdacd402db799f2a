// A log tail over an rpc stream: a slow consumer holds the producer at its `yield` (credit-based
// flow control), then cancels with an AbortSignal, and the server's generator runs its `finally`.
//   npx tsx --conditions=@proto/source examples/rpc-stream/log-tail.ts
import { setTimeout as sleep } from 'node:timers/promises';
import { defineContract, RpcClient, RpcServer } from '@proto/rpc';
import { z } from 'zod';

const started = performance.now();
function log(text: string): void {
  console.log(`${String(Math.round(performance.now() - started)).padStart(4)} ms  ${text}`);
}
let failures = 0;
function check(ok: boolean, what: string): void {
  if (!ok) {
    failures++;
    console.error(`  ✗ expected ${what}`);
  }
}

const logs = defineContract({
  // A stream: params, the item each `yield` sends, and `stream: true`.
  'logs::tail': {
    params: z.object({ service: z.string() }),
    item: z.object({ seq: z.number(), line: z.string() }),
    stream: true,
  },
  // Client streaming: the caller sends lines (`input`), the handler answers with one summary.
  'logs::ingest': { params: z.undefined(), item: z.object({ stored: z.number() }), input: z.string(), stream: true },
});

// ---- server ----------------------------------------------------------------------------------
const server = new RpcServer({ password: 'tail-secret', contract: logs });
let produced = 0;
let tailClosed: ((reason: unknown) => void) | undefined;
const tailFinished = new Promise<unknown>((resolve) => (tailClosed = resolve));

server.handleStream('logs::tail', async function* ({ service }, ctx) {
  log(`server: tail of ${service} opened`);
  try {
    for (let seq = 1; ; seq++) {
      produced = seq;
      // Waits here whenever the consumer has 4 unread lines: no line is made that nobody reads.
      yield { seq, line: `${service}: request ${seq} handled in ${(seq * 7) % 40} ms` };
    }
  } finally {
    // Runs on cancel: the caller's signal reached the generator.
    log(`server: tail closed after ${produced} lines (ctx.signal aborted: ${ctx.signal.aborted})`);
    tailClosed?.(ctx.signal.reason);
  }
});

server.handleStream('logs::ingest', async function* (_params, ctx) {
  let stored = 0;
  for await (const line of ctx.input) {
    void line;
    stored++;
  }
  yield { stored };
});

const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
log(`log server on 127.0.0.1:${port}`);

// ---- a slow consumer that cancels --------------------------------------------------------------
const client = new RpcClient({ host: '127.0.0.1', port, password: 'tail-secret', contract: logs });
await client.connect();

const highWaterMark = 4;
const controller = new AbortController();
let consumed = 0;
let worstLead = 0;
try {
  // The item type comes from the contract: `entry` is { seq: number; line: string }.
  for await (const entry of client.stream('logs::tail', { service: 'api' }, { signal: controller.signal, highWaterMark })) {
    consumed++;
    worstLead = Math.max(worstLead, produced - consumed);
    log(`client: ${entry.line}   (produced ${produced}, consumed ${consumed})`);
    await sleep(25); // a slow consumer: the producer waits for it
    if (consumed === 12) {
      log('client: enough, cancelling');
      controller.abort();
    }
  }
  check(false, 'the loop to end with ERR_ABORTED');
} catch (error) {
  const code = (error as { code?: string }).code;
  log(`client: the loop ended with ${code}`);
  check(code === 'ERR_ABORTED', 'ERR_ABORTED');
}
const reason = await tailFinished;
check((reason as { code?: string } | undefined)?.code === 'ERR_ABORTED', "the server's ctx.signal aborted by the cancel");
log(`the producer never ran more than ${worstLead} lines ahead of the consumer (highWaterMark ${highWaterMark})`);
check(worstLead <= highWaterMark, `at most ${highWaterMark} lines ahead`);

// ---- client streaming: input flows under the server's credit -----------------------------------
async function* lines(): AsyncGenerator<string> {
  for (let i = 0; i < 1000; i++) yield `line ${i}`;
}
for await (const { stored } of client.stream('logs::ingest', undefined, { input: lines() })) {
  log(`client: the server stored ${stored} lines sent as a stream`);
  check(stored === 1000, '1000 lines stored');
}

await client.close();
await server.close();
log(failures === 0 ? 'done: the slow consumer held the tail, and the cancel reached the generator' : `${failures} unexpected result(s)`);
process.exitCode = failures === 0 ? 0 : 1;
