import type { Environment } from './environment.js';
import { caseGrid, renderMarkdown, targetGrid } from './table.js';
import { evaluateTarget } from './targets.js';
import type { SuiteResult } from './types.js';

export interface ReportInput {
  env: Environment;
  command: string;
  quick: boolean;
  rounds: number;
  only: readonly string[] | undefined;
  peers: readonly { name: string; version: string }[];
  suites: readonly SuiteResult[];
  /** Wall time of the whole run, seconds. */
  seconds: number;
  /** How the processes were placed (pinned to cores or not). */
  placement: string;
  /** Load average when the run ended (1 / 5 / 15 min). */
  loadAtEnd: string;
  /** Folder of the SVG charts, relative to the markdown file. */
  chartsDir: string;
}

export function resultsMarkdown(input: ReportInput): string {
  const { env } = input;
  const out: string[] = [
    '# Benchmark results',
    '',
    'Written by `benchmarks/run.ts`; every run rewrites this file. See README.md for what each suite measures.',
    'Numbers from a shared or busy machine are noisy: compare ratios within one run, not absolute rates across runs.',
    '',
    `- Date: ${env.date}`,
    `- Machine: ${env.cpu} x ${env.cpus}, ${env.memory} RAM, ${env.platform}`,
    `- Node: ${env.node}`,
    `- Sources: commit ${env.commit}`,
    `- Load average at start (1 / 5 / 15 min): ${env.load}; at the end: ${input.loadAtEnd}`,
    `- Machine state: ${env.machineState}`,
    `- Command: \`${input.command}\``,
    `- Mode: ${input.quick ? 'quick (small sizes, short runs)' : 'full'}, ${input.rounds} round(s) per contender (best kept)${input.only === undefined ? '' : `; only ${input.only.join(', ')}`}`,
    `- Processes: ${input.placement}`,
    `- Wall time: ${input.seconds.toFixed(0)} s`,
    '',
    '## Peer libraries',
    '',
    '| package | version |',
    '| --- | --- |',
    ...input.peers.map((p) => `| ${p.name} | ${p.version} |`),
    '',
  ];
  const charts = input.suites.flatMap((s) => s.charts ?? []);
  if (charts.length > 0) {
    out.push('## Charts', '', 'SVG files written by this run (`lib/svg-chart.ts`), shown again in their suites below:', '');
    for (const chart of charts) out.push(`- [${chart.title}](${input.chartsDir}/${chart.id}.svg)`);
    out.push('');
  }
  const allTargets = input.suites.flatMap((s) => s.targets.map((t) => evaluateTarget(s.cases, t)));
  if (allTargets.length > 0) {
    out.push('## Targets', '', renderMarkdown(targetGrid(allTargets)), '');
  }
  for (const suite of input.suites) {
    out.push(`## ${suite.title}`, '');
    for (const note of suite.notes) out.push(`- ${note}`);
    if (suite.notes.length > 0) out.push('');
    for (const c of suite.cases) out.push(`### ${c.title}`, '', renderMarkdown(caseGrid(c)), '');
    for (const chart of suite.charts ?? []) out.push(`![${chart.title}](${input.chartsDir}/${chart.id}.svg)`, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
