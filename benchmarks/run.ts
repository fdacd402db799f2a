// Runs every benchmark suite, prints the tables and rewrites benchmarks/RESULTS.md.
// Usage: npx -y pnpm@10.34.9 bench [--quick] [--only=decode,rpc]
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { clusterSuite } from './cluster/suite.js';
import { decodeSuite } from './decode/suite.js';
import { nsBinarySuite } from './ns/suite-binary.js';
import { nsIdleSuite } from './ns/suite-idle.js';
import { nsOneWaySuite } from './ns/suite-oneway.js';
import { nsResumeSuite } from './ns/suite-resume.js';
import { rpcSuite } from './rpc/suite.js';
import { rpcCurvesSuite } from './rpc/suite-curves.js';
import { rpcIdleSuite } from './rpc/suite-idle.js';
import { streamsSuite } from './streams/suite.js';
import { tcpSuite } from './tcp/suite.js';
import { environment } from './lib/environment.js';
import { peerVersions } from './lib/peers.js';
import { placement, usePlacement } from './lib/pinning.js';
import { resultsMarkdown } from './lib/results-md.js';
import { now } from './lib/stats.js';
import { renderLineChart } from './lib/svg-chart.js';
import { caseGrid, renderText, targetGrid } from './lib/table.js';
import { evaluateTarget } from './lib/targets.js';
import type { Suite, SuiteResult } from './lib/types.js';

const SUITES: Suite[] = [decodeSuite, tcpSuite, nsOneWaySuite, nsBinarySuite, nsIdleSuite, nsResumeSuite, rpcSuite, rpcCurvesSuite, rpcIdleSuite, streamsSuite, clusterSuite];

interface Args {
  quick: boolean;
  only: string[] | undefined;
  rounds: number;
  pin: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let pin = true;
  let only: string[] | undefined;
  let rounds = 1;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg === '--no-pin') pin = false;
    else if (arg === '--pin') pin = true;
    else if (arg.startsWith('--rounds=')) {
      rounds = Number.parseInt(arg.slice('--rounds='.length), 10);
      if (!(rounds >= 1 && rounds <= 20)) {
        console.error('--rounds must be an integer from 1 to 20');
        process.exit(2);
      }
    }
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length).split(',').filter(Boolean);
    else if (arg === '--help' || arg === '-h') {
      console.log(`usage: bench [--quick] [--only=<suite>[,<suite>]] [--rounds=<n>] [--no-pin]\nsuites: ${SUITES.map((s) => s.id).join(', ')}`);
      process.exit(0);
    } else {
      console.error(`unknown argument ${arg} (try --help)`);
      process.exit(2);
    }
  }
  return { quick, only, rounds, pin };
}

async function main(): Promise<void> {
  const { quick, only, rounds, pin } = parseArgs(process.argv.slice(2));
  const where = placement(pin);
  usePlacement(where);
  const selected = only === undefined ? SUITES : SUITES.filter((s) => only.some((o) => s.id === o || s.id.startsWith(`${o}-`)));
  if (selected.length === 0) {
    console.error(`no suite matches --only=${only?.join(',')}; suites: ${SUITES.map((s) => s.id).join(', ')}`);
    process.exit(2);
  }
  const env = environment();
  const peers = peerVersions();
  const command = `npx -y pnpm@10.34.9 bench${process.argv.slice(2).map((a) => ` ${a}`).join('')}`;
  console.log(`@proto benchmarks — ${env.date}`);
  console.log(`${env.cpu} x ${env.cpus}, ${env.memory}, ${env.platform}, Node ${env.node}, load ${env.load}, commit ${env.commit}`);
  console.log(`machine state: ${env.machineState}`);
  console.log(`peers: ${peers.map((p) => `${p.name}@${p.version}`).join(', ')}`);
  console.log(`mode: ${quick ? 'quick' : 'full'}, ${rounds} round(s) per contender; ${where.description}`);

  const started = now();
  const results: SuiteResult[] = [];
  for (const suite of selected) {
    console.log(`\n== ${suite.title}`);
    const result = await suite.run({ quick, rounds });
    results.push(result);
    for (const note of result.notes) console.log(`   ${note}`);
    for (const c of result.cases) console.log(`\n${c.title}\n${renderText(caseGrid(c))}`);
    const targets = result.targets.map((t) => evaluateTarget(result.cases, t));
    if (targets.length > 0) console.log(`\ntargets\n${renderText(targetGrid(targets))}`);
  }
  const seconds = (now() - started) / 1000;
  // Only a full run of every suite replaces RESULTS.md and charts/ (the committed record); a quick
  // or --only run writes RESULTS.partial.md and charts-partial/ (both git-ignored).
  const partial = quick || only !== undefined;
  const file = partial ? 'RESULTS.partial.md' : 'RESULTS.md';
  const chartsDir = partial ? 'charts-partial' : 'charts';
  const loadAtEnd = os.loadavg().map((l) => l.toFixed(2)).join(' / ');
  const markdown = resultsMarkdown({ env, command, quick, rounds, only, peers, suites: results, seconds, placement: where.description, loadAtEnd, chartsDir });
  writeFileSync(new URL(`./${file}`, import.meta.url), markdown);
  const charts = results.flatMap((r) => r.charts ?? []);
  if (charts.length > 0) {
    const dir = new URL(`./${chartsDir}/`, import.meta.url);
    mkdirSync(dir, { recursive: true });
    for (const chart of charts) writeFileSync(new URL(`${chart.id}.svg`, dir), renderLineChart(chart));
    console.log(`wrote ${String(charts.length)} chart(s) to benchmarks/${chartsDir}/`);
  }
  console.log(`\nwrote benchmarks/${file} (${seconds.toFixed(0)} s)`);

  const failed = results.flatMap((s) => s.cases.flatMap((c) => c.rows.filter((r) => r.status === 'failed').map((r) => `${c.id}: ${r.contender}: ${r.note ?? ''}`)));
  if (failed.length > 0) {
    console.error(`\n${failed.length} contender run(s) FAILED:\n${[...new Set(failed)].map((f) => `  ${f}`).join('\n')}`);
    process.exitCode = 1;
  }
}

await main();
