// CPU cost per request on each side of the rpc case (`{ a, b } -> a + b`, closed loop), counted in
// instructions by valgrind (callgrind): each side runs under callgrind while the other runs
// natively. The client first sends a warm-up (`--warm`, so the JIT has compiled the hot path),
// then the measured side's counters are zeroed (callgrind_control -z) and the client sends the
// measured requests; two request counts, and the difference over the difference in requests is one
// request's cost (what is left of start-up, compilation and exit cancels). Kernel work is not counted.
//
// usage: node --conditions=@proto/source --import tsx benchmarks/rpc/instructions.ts
//          [--requests=20000,60000] [--warm=30000] [--concurrency=100] [--contenders=proto,raw]
//          [--sides=server,client] [--out=/tmp/cg]
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SIDE = fileURLToPath(new URL('./instr-side.ts', import.meta.url));
const NODE_ARGS = ['--conditions=@proto/source', '--import', 'tsx'];

function option(name: string, fallback: string): string[] {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return (arg === undefined ? fallback : arg.slice(name.length + 3)).split(',').filter(Boolean);
}

const [small, large] = option('requests', '20000,60000').map(Number) as [number, number];
const concurrency = option('concurrency', '100')[0]!;
const warm = option('warm', '30000')[0]!;
const contenders = option('contenders', 'proto,raw');
const sides = option('sides', 'server,client');
const out = option('out', '/tmp/proto-rpc-callgrind')[0]!;
mkdirSync(out, { recursive: true });

function command(measured: boolean, file: string, args: string[]): [string, string[]] {
  const node = [...NODE_ARGS, SIDE, ...args];
  if (!measured) return [process.execPath, node];
  // V8 writes machine code at run time: valgrind must re-check code it has translated.
  return ['valgrind', ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${file}`, process.execPath, ...node]];
}

async function run(contender: string, side: string, requests: number): Promise<number> {
  const file = `${out}/${contender}-${side}-c${concurrency}-${String(requests)}.out`;
  const [serverCmd, serverArgs] = command(side === 'server', file, ['server', contender]);
  const server = spawn(serverCmd, serverArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
  let port: number | undefined;
  for await (const line of createInterface({ input: server.stdout })) {
    const match = /^port (\d+)$/.exec(line);
    if (match !== null) {
      port = Number(match[1]);
      break;
    }
  }
  if (port === undefined) throw new Error('the server printed no port');
  const [clientCmd, clientArgs] = command(side === 'client', file, ['client', contender, String(requests), concurrency, String(port), warm]);
  const client = spawn(clientCmd, clientArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(client, 'exit');
  for await (const line of createInterface({ input: client.stdout })) {
    if (line !== 'warm') continue;
    const measured = side === 'server' ? server : client;
    await new Promise<void>((resolve, reject) =>
      execFile('callgrind_control', ['-z', String(measured.pid)], (error) => (error === null ? resolve() : reject(error))),
    );
    client.stdin.end('go\n');
    break;
  }
  const [clientCode] = await exited;
  const [serverCode] = server.exitCode !== null ? [server.exitCode] : await once(server, 'exit');
  if (clientCode !== 0 || serverCode !== 0) throw new Error(`${contender} ${side} ${String(requests)}: exit codes ${String(serverCode)}/${String(clientCode)}`);
  const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'));
  if (totals === null) throw new Error(`no totals in ${file}`);
  return Number(totals[1]);
}

console.log(`instructions per request (callgrind Ir), math::add at concurrency ${concurrency}, from runs of ${String(small)} and ${String(large)} requests after ${warm} untimed`);
console.log(`contender  side      Ir/request   (files in ${out})`);
for (const contender of contenders) {
  for (const side of sides) {
    const a = await run(contender, side, small);
    const b = await run(contender, side, large);
    console.log(`${contender.padEnd(10)} ${side.padEnd(8)} ${Math.round((b - a) / (large - small)).toLocaleString('en-US').padStart(10)}`);
  }
}
