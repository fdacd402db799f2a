// CPU cost per 1 MiB frame on each side, counted in instructions by valgrind (callgrind), which a
// loaded machine does not disturb the way it disturbs wall-clock time. For each contender and side,
// that side runs under callgrind twice (two frame counts) while the other side runs natively; the
// difference divided by the difference in frames is the cost of one frame, start-up excluded.
// Kernel work (the copies in read/write syscalls) is not counted: it is the same for every contender.
//
// usage: node --conditions=@proto/source --import tsx benchmarks/tcp/instructions.ts
//          [--frames=64,320] [--contenders=framed,raw,concat] [--sides=send,recv] [--out=/tmp/cg]
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CONTENDERS } from './sides.js';

const SIDE_MAIN = fileURLToPath(new URL('./side-main.ts', import.meta.url));
const NODE_ARGS = ['--conditions=@proto/source', '--import', 'tsx'];
const BYTES = 1024 * 1024;

function option(name: string, fallback: string): string[] {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return (arg === undefined ? fallback : arg.slice(name.length + 3)).split(',').filter(Boolean);
}

const [small, large] = option('frames', '64,320').map(Number) as [number, number];
const contenders = option('contenders', CONTENDERS.join(','));
const sides = option('sides', 'send,recv');
const out = option('out', '/tmp/proto-callgrind')[0]!;
mkdirSync(out, { recursive: true });

function command(measured: boolean, file: string, args: string[]): [string, string[]] {
  const node = [...NODE_ARGS, SIDE_MAIN, ...args];
  if (!measured) return [process.execPath, node];
  // V8 writes machine code at run time: valgrind must re-check code it has translated.
  return ['valgrind', ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${file}`, process.execPath, ...node]];
}

async function runPair(contender: string, side: string, frames: number): Promise<number> {
  const file = `${out}/${contender}-${side}-${String(frames)}.out`;
  const [recvCmd, recvArgs] = command(side === 'recv', file, [contender, 'recv', String(frames), String(BYTES)]);
  const receiver = spawn(recvCmd, recvArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = createInterface({ input: receiver.stdout });
  let port: number | undefined;
  for await (const line of lines) {
    const match = /^port (\d+)$/.exec(line);
    if (match !== null) {
      port = Number(match[1]);
      break;
    }
  }
  if (port === undefined) throw new Error(`${contender} receiver printed no port`);
  const [sendCmd, sendArgs] = command(side === 'send', file, [contender, 'send', String(frames), String(BYTES), String(port)]);
  const sender = spawn(sendCmd, sendArgs, { stdio: ['ignore', 'inherit', 'pipe'] });
  const [sendCode] = await once(sender, 'exit');
  const [recvCode] = receiver.exitCode !== null ? [receiver.exitCode] : await once(receiver, 'exit');
  if (sendCode !== 0 || recvCode !== 0) throw new Error(`${contender} ${side} ${String(frames)}: exit codes ${String(sendCode)}/${String(recvCode)}`);
  const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'));
  if (totals === null) throw new Error(`no totals in ${file}`);
  return Number(totals[1]);
}

console.log(`instructions per 1 MiB frame (callgrind Ir), from runs of ${String(small)} and ${String(large)} frames`);
console.log('contender  side  Ir/frame   (files in ' + out + ')');
for (const contender of contenders) {
  for (const side of sides) {
    const a = await runPair(contender, side, small);
    const b = await runPair(contender, side, large);
    const perFrame = (b - a) / (large - small);
    console.log(`${contender.padEnd(10)} ${side.padEnd(5)} ${Math.round(perFrame).toLocaleString('en-US').padStart(10)}`);
  }
}
