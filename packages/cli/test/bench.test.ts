import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from '../../../testing/cleanup.js';
import { cleanServer, proto, runInProcess, withPassword } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface BenchJson {
  mode: string;
  connections: number;
  concurrency: number | null;
  rate: number | null;
  requests: number;
  errors: number;
  errorCodes: Record<string, number>;
  throughput: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  warmupS: number;
}

const server = (): ReturnType<typeof cleanServer> => cleanServer(cleanup);

describe('proto bench', () => {
  it('closed loop: prints throughput and p50/p90/p99/max, and no progress line off a TTY', async () => {
    const { address } = await server();
    const result = await proto(['bench', address, 'math::add', '{"a":1,"b":2}', '--connections', '2', '--concurrency', '4', '--duration', '0.5'], { env: withPassword() });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^bench math::add on tcp:\/\/127\.0\.0\.1:\d+: 2 connections × 4 in flight, 0\.5 s after a 1 s warm-up$/);
    expect(lines[1]).toMatch(/^ {2}requests {2}[1-9]\d* ok, 0 failed in \d+\.\d\d s: \d+\.\d req\/s$/);
    expect(lines[2]).toMatch(/^ {2}latency {3}p50 \d+\.\d{3} ms {2}p90 \d+\.\d{3} ms {2}p99 \d+\.\d{3} ms {2}max \d+\.\d{3} ms {2}mean \d+\.\d{3} ms$/);
  });

  it('--json: percentiles in order, from the histogram', async () => {
    const { address } = await server();
    const result = await runInProcess(['bench', address, 'echo', '"x"', '--connections', '1', '--concurrency', '2', '--duration', '0.3', '--json'], { env: withPassword() });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as BenchJson;
    expect(report).toMatchObject({ mode: 'closed', connections: 1, concurrency: 2, rate: null, errors: 0 });
    expect(report.requests).toBeGreaterThan(0);
    const { p50, p90, p99, max } = report.latencyMs;
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p90);
    expect(p90).toBeLessThanOrEqual(p99);
    expect(p99).toBeLessThanOrEqual(max);
  });

  it('--rate: open loop sends rate × duration requests whatever the answers (after rate × warm-up untimed ones)', async () => {
    const { address, handled } = await server();
    const result = await runInProcess(['bench', address, 'echo', '1', '--rate', '200', '--duration', '0.5', '--warmup', '0.25', '--connections', '2', '--json'], { env: withPassword() });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as BenchJson;
    expect(report).toMatchObject({ mode: 'open', rate: 200, concurrency: null, requests: 100, errors: 0, warmupS: 0.25 });
    expect(handled).toHaveLength(50 + 100);
  });

  it('--warmup: the same load first, not counted; 0 turns it off', async () => {
    const { address, handled } = await server();
    const args = ['bench', address, 'echo', '1', '--connections', '1', '--concurrency', '2', '--duration', '0.3', '--json'];
    const warmed = await runInProcess([...args, '--warmup', '0.3'], { env: withPassword() });
    expect(warmed.code).toBe(0);
    const report = JSON.parse(warmed.stdout) as BenchJson;
    expect(report.warmupS).toBe(0.3);
    expect(handled.length).toBeGreaterThan(report.requests); // the warm-up's requests reached the server
    const before = handled.length;
    const cold = await runInProcess([...args, '--warmup', '0'], { env: withPassword() });
    const coldReport = JSON.parse(cold.stdout) as BenchJson;
    expect(coldReport.warmupS).toBe(0);
    expect(handled.length - before).toBe(coldReport.requests);
    const bad = await runInProcess([...args, '--warmup', 'soon'], { env: withPassword() });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--warmup must be a number >= 0/);
  });

  it('counts failures by code and exits with the first one after the summary', async () => {
    const { address } = await server();
    const result = await runInProcess(['bench', address, 'teapot', '--connections', '1', '--concurrency', '1', '--duration', '0.2', '--json'], { env: withPassword() });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as BenchJson;
    expect(report.requests).toBe(0);
    expect(report.errors).toBeGreaterThan(0);
    expect(report.errorCodes).toEqual({ ERR_REMOTE: report.errors });
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { code: 'ERR_REMOTE', remoteCode: 'E_TEAPOT' } });
  });

  it('shows a progress line on a TTY stderr only', async () => {
    const { address } = await server();
    const tty = await runInProcess(['bench', address, 'echo', '1', '--connections', '1', '--concurrency', '1', '--duration', '0.6'], { env: withPassword(), tty: true });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toMatch(/\r\x1b\[2K {2}\d\.\d\/0\.6 s {2}\d+ ok {2}0 errors/);
    expect(tty.stdout).toContain('\x1b[1m'); // bold figures: colour on a terminal
    const piped = await runInProcess(['bench', address, 'echo', '1', '--connections', '1', '--concurrency', '1', '--duration', '0.3'], { env: withPassword() });
    expect(piped.stderr).toBe('');
    expect(piped.stdout).not.toContain('\x1b');
    const noColor = await runInProcess(['bench', address, 'echo', '1', '--connections', '1', '--concurrency', '1', '--duration', '0.3'], { env: { ...withPassword(), NO_COLOR: '1' }, tty: true });
    expect(noColor.stdout).not.toContain('\x1b');
  });
});
