import { type CommandSpec, intValue } from '../args.js';
import type { Command } from '../command.js';
import { connectRpc } from '../connect.js';
import { ExitCode } from '../exit-codes.js';
import { toJson } from '../json.js';
import { formatAddress } from '../address.js';
import { CONNECTION_OPTIONS, resolveTarget } from '../target.js';
import { ANSWER_TIMEOUT, DEFAULT_TIMEOUT_MS } from './call.js';
import { PROBE_METHOD, probeAnswered } from './pub.js';

const spec: CommandSpec = {
  name: 'ping',
  usage: 'ADDR',
  summary: 'measure round-trip times to an rpc server (--count pings, default 3)',
  positionals: [1, 1],
  options: {
    count: { type: 'string', arg: 'N', description: 'send N pings (default 3)' },
    interval: { type: 'string', arg: 'MS', description: 'wait MS between pings (default 1000)' },
    ...ANSWER_TIMEOUT,
    ...CONNECTION_OPTIONS,
  },
  details: [
    'Each ping is a full request round trip through the server (to a reserved method every server',
    'answers with ERR_METHOD_NOT_FOUND), so it needs no support on the server. The first line',
    'shows how long connecting and authenticating took. A ping without an answer exits 4.',
    '',
    'Examples:',
    '  proto ping 127.0.0.1:7400',
    '  proto ping tls://db.internal:7400 --count 10 --interval 200 --ca ca.pem --json',
  ].join('\n'),
};

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

const ms = (value: number): string => `${value.toFixed(3)} ms`;

/** `proto ping ADDR [--count N] [--interval MS]`. */
export const ping: Command = {
  spec,
  async run(parsed, { io, out, stdin }) {
    const count = intValue(parsed, 'count', 3, 1);
    const intervalMs = intValue(parsed, 'interval', 1000);
    const timeoutMs = intValue(parsed, 'timeout', DEFAULT_TIMEOUT_MS);
    const target = await resolveTarget(parsed, parsed.positionals[0]!, io.env, stdin);
    const address = formatAddress(target.address);
    const connectStart = performance.now();
    const client = await connectRpc(target);
    const connectMs = performance.now() - connectStart;
    if (!out.json) out.line(`connected to ${address} in ${ms(connectMs)} (dial${target.tls === undefined ? '' : ', TLS'} and authentication)`);
    const rtts: number[] = [];
    try {
      for (let seq = 1; seq <= count && !io.signal.aborted; seq++) {
        if (seq > 1 && intervalMs > 0) await sleep(intervalMs, io.signal);
        if (io.signal.aborted) break;
        const start = performance.now();
        await client.request(PROBE_METHOD, undefined, { timeoutMs }).then(() => undefined, probeAnswered);
        const rtt = performance.now() - start;
        rtts.push(rtt);
        if (!out.json) out.line(`reply from ${address}: seq=${seq} time=${out.paint('bold', ms(rtt))}`);
      }
    } finally {
      client.destroy();
    }
    const min = Math.min(...rtts);
    const max = Math.max(...rtts);
    const avg = rtts.reduce((sum, rtt) => sum + rtt, 0) / rtts.length;
    if (out.json) out.line(toJson({ address, connectMs, rttMs: rtts, minMs: min, avgMs: avg, maxMs: max }));
    else if (rtts.length > 0) out.line(`${rtts.length} pings: min ${ms(min)}, avg ${ms(avg)}, max ${ms(max)}`);
    return ExitCode.OK;
  },
};
