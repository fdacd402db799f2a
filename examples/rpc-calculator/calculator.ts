// RPC calculator with a zod contract: typed requests, validated params, typed remote errors.
//   npx tsx --conditions=@proto/source examples/rpc-calculator/calculator.ts
import { InvalidParamsError, RemoteError, RpcClient, RpcError, RpcServer } from '@proto/rpc';
import { calculator } from './contract.js';

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

// ---- server: handlers are typed from the contract (params already validated and parsed) --------
const server = new RpcServer({ password: 'calc-secret', contract: calculator });
server.handle('calc::add', ({ a, b }) => a + b);
server.handle('calc::divide', ({ a, b }) => {
  // An RpcError reaches the caller as-is: code, message and data (any JSON).
  if (b === 0) throw new RpcError('DIVISION_BY_ZERO', 'cannot divide by zero', { a });
  return a / b;
});
server.handle('calc::sum', (values) => values.reduce((total, value) => total + value, 0));
server.handle('calc::stats', ({ values }) => {
  // A planted bug, with the kind of detail a server must not leak.
  if (values.includes(13)) throw new TypeError("Cannot read properties of undefined (reading 'luck') at /srv/calc/stats.js:13");
  return { min: Math.min(...values), max: Math.max(...values), mean: values.reduce((s, v) => s + v, 0) / values.length };
});
// Any other throw becomes remoteCode 'INTERNAL' for the caller, with no message or stack from the
// server; the server sees the original error here.
server.on('error', (error, peer) => log(`server: handler failed for ${peer?.id ?? '?'}: ${error.message}`));
const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
log(`calculator server on 127.0.0.1:${port}`);

// ---- client: validateResults checks answers against the contract too ----------------------------
const client = new RpcClient({ host: '127.0.0.1', port, password: 'calc-secret', contract: calculator, validateResults: true });
await client.connect();

const sum = await client.request('calc::add', { a: 19, b: 23 }); // typed: number
log(`calc::add {a: 19, b: 23} → ${sum}`);
check(sum === 42, '42');

const total = await client.request('calc::sum', [1, 2, 3, 4.5]);
log(`calc::sum [1, 2, 3, 4.5] → ${total}`);
check(total === 10.5, '10.5');

const stats = await client.request('calc::stats', { values: [3, 1, 2] }); // typed: { min, max, mean }
log(`calc::stats {values: [3, 1, 2]} → ${JSON.stringify(stats)}`);
check(stats.mean === 2, 'mean 2');

// A remote failure with its own code: branch on err.code, then err.remoteCode.
try {
  await client.request('calc::divide', { a: 1, b: 0 });
  check(false, 'a RemoteError');
} catch (error) {
  if (!(error instanceof RemoteError)) throw error;
  log(`calc::divide {a: 1, b: 0} → ${error.code}, remoteCode ${error.remoteCode}, "${error.message}", data ${JSON.stringify(error.data)}`);
  check(error.remoteCode === 'DIVISION_BY_ZERO', 'remoteCode DIVISION_BY_ZERO');
}

// Bad params never reach the handler. (The array form of the method name is untyped, which lets
// this example send what TypeScript would otherwise refuse to compile.)
try {
  await client.request(['calc', 'add'], { a: 'one', b: 2 });
  check(false, 'InvalidParamsError');
} catch (error) {
  if (!(error instanceof InvalidParamsError)) throw error;
  log(`calc::add {a: "one", b: 2} → ${error.code}:\n${error.message.replace(/^/gm, '          ')}`);
  log(`   issues (from zod, over the wire): ${JSON.stringify(error.data)}`);
  check(error.code === 'ERR_INVALID_PARAMS', 'ERR_INVALID_PARAMS');
}

// A handler bug: the caller learns only that it failed, not the server's internals.
try {
  await client.request('calc::stats', { values: [1, 13] });
  check(false, 'a RemoteError');
} catch (error) {
  if (!(error instanceof RemoteError)) throw error;
  log(`calc::stats {values: [1, 13]} → ${error.code}, remoteCode ${error.remoteCode}, "${error.message}"`);
  check(error.remoteCode === 'INTERNAL' && !error.message.includes('/srv/'), 'INTERNAL without details');
}

// A method the server does not have.
try {
  await client.request(['calc', 'sqrt'], 2);
  check(false, 'ERR_METHOD_NOT_FOUND');
} catch (error) {
  log(`calc::sqrt → ${(error as { code?: string }).code}`);
  check((error as { code?: string }).code === 'ERR_METHOD_NOT_FOUND', 'ERR_METHOD_NOT_FOUND');
}

await client.close();
await server.close();
log(failures === 0 ? 'done: every answer and every error as expected' : `${failures} unexpected result(s)`);
process.exitCode = failures === 0 ? 0 : 1;
