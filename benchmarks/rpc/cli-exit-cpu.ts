// Preloaded into the `proto bench` child (rpc/cli.ts): samples its CPU time every 50 ms and, at
// exit, writes the samples to the file BENCH_CLI_CPU_FILE names, so the comparison row can count
// the CPU of the measured window only (not start-up, connecting and authenticating).
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_CLI_CPU_FILE;
if (file !== undefined && file !== '') {
  const samples: { t: number; cpuUs: number }[] = [];
  const take = () => {
    const usage = process.cpuUsage();
    samples.push({ t: performance.timeOrigin + performance.now(), cpuUs: usage.user + usage.system });
  };
  setInterval(take, 50).unref();
  process.on('exit', () => {
    take();
    writeFileSync(file, JSON.stringify(samples));
  });
}
