// CPU cost per stream item on each side, counted in instructions by valgrind (callgrind), which a
// loaded machine does not disturb the way it disturbs wall-clock time. Each side runs under
// callgrind twice (two item counts) while the other runs natively; the difference divided by the
// difference in items is the cost of one item, start-up excluded. Kernel work (syscalls) is not
// counted: compare the `writes` too, which strace would show, when windows differ.
//
// usage: node --conditions=@proto/source --import tsx benchmarks/streams/instructions.ts
//          [--items=20000,60000] [--hwm=16,256] [--bytes=0] [--sides=produce,consume] [--out=/tmp/cg]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SIDE_MAIN = fileURLToPath(new URL('./side-main.ts', import.meta.url));
const NODE_ARGS = ['--conditions=@proto/source', '--import', 'tsx'];

function option(name: string, fallback: string): string[] {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return (arg === undefined ? fallback : arg.slice(name.length + 3)).split(',').filter(Boolean);
}

const [small, large] = option('items', '20000,60000').map(Number) as [number, number];
const windows = option('hwm', '16,256');
const bytes = option('bytes', '0')[0]!;
const sides = option('sides', 'produce,consume');
const out = option('out', '/tmp/proto-stream-callgrind')[0]!;
mkdirSync(out, { recursive: true });

function command(measured: boolean, file: string, args: string[]): [string, string[]] {
  const node = [...NODE_ARGS, SIDE_MAIN, ...args];
  if (!measured) return [process.execPath, node];
  // V8 writes machine code at run time: valgrind must re-check code it has translated.
  return ['valgrind', ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${file}`, process.execPath, ...node]];
}

async function runPair(side: string, hwm: string, items: number): Promise<number> {
  const file = `${out}/${side}-${hwm}-${bytes}-${String(items)}.out`;
  const [prodCmd, prodArgs] = command(side === 'produce', file, ['produce', hwm, bytes]);
  const producer = spawn(prodCmd, prodArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
  let port: number | undefined;
  for await (const line of createInterface({ input: producer.stdout })) {
    const match = /^port (\d+)$/.exec(line);
    if (match !== null) {
      port = Number(match[1]);
      break;
    }
  }
  if (port === undefined) throw new Error('the producer printed no port');
  const [consCmd, consArgs] = command(side === 'consume', file, ['consume', hwm, bytes, String(items), String(port)]);
  const consumer = spawn(consCmd, consArgs, { stdio: ['ignore', 'inherit', 'inherit'] });
  const [consCode] = await once(consumer, 'exit');
  const [prodCode] = producer.exitCode !== null ? [producer.exitCode] : await once(producer, 'exit');
  if (consCode !== 0 || prodCode !== 0) throw new Error(`${side} hwm ${hwm} ${String(items)}: exit codes ${String(prodCode)}/${String(consCode)}`);
  const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'));
  if (totals === null) throw new Error(`no totals in ${file}`);
  return Number(totals[1]);
}

console.log(`instructions per stream item (callgrind Ir), ${bytes === '0' ? 'small JSON items' : `${bytes}-byte items`}, from runs of ${String(small)} and ${String(large)} items`);
console.log(`hwm    side     Ir/item   (files in ${out})`);
for (const hwm of windows) {
  for (const side of sides) {
    const a = await runPair(side, hwm, small);
    const b = await runPair(side, hwm, large);
    console.log(`${hwm.padEnd(6)} ${side.padEnd(8)} ${Math.round((b - a) / (large - small)).toLocaleString('en-US').padStart(8)}`);
  }
}
