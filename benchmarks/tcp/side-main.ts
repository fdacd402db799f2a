// One side of the 1 MiB transfer as its own process: `side-main.ts <contender> recv <frames> <bytes>`
// prints `port <n>` and exits when everything arrived; `... send <frames> <bytes> <port>` sends.
import { CONTENDERS, type ContenderId, RECEIVERS, SENDERS } from './sides.js';

const [contender, side, framesArg, bytesArg, portArg] = process.argv.slice(2);
if (!CONTENDERS.includes(contender as ContenderId) || (side !== 'send' && side !== 'recv')) {
  console.error(`usage: side-main.ts <${CONTENDERS.join('|')}> <send|recv> <frames> <bytes> [port]`);
  process.exit(2);
}
const frames = Number(framesArg);
const bytes = Number(bytesArg);
const id = contender as ContenderId;
if (side === 'recv') {
  await RECEIVERS[id](frames, bytes, (port) => console.log(`port ${String(port)}`));
} else {
  await SENDERS[id](Number(portArg), frames, bytes);
}
process.exit(0);
