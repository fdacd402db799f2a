// Non-interactive run of the chat (what CI smokes): a server and two clients in one process,
// a message through wildcards, raw bytes, then a server restart on the same port while a client
// keeps typing: the clients reconnect by themselves and the queued line arrives.
//   npx tsx --conditions=@proto/source examples/ns-chat/self-test.ts
import type { NsServer } from '@proto/ns';
import { connectChatClient } from './chat-client.js';
import { startChatServer } from './chat-server.js';
import type { ChatEvents } from './protocol.js';

const started = performance.now();
const ms = (): string => `${String(Math.round(performance.now() - started)).padStart(5)} ms`;

/** Each participant's log, so the run can wait for a line to appear (and fail if it never does). */
const seen = new Map<string, string[]>();
const waiters: { who: string; text: string; resolve: () => void }[] = [];
function logFor(who: string): (line: string) => void {
  seen.set(who, []);
  return (line) => {
    console.log(`${ms()}  [${who}] ${line}`);
    seen.get(who)!.push(line);
    for (const waiter of waiters.filter((w) => w.who === who && line.includes(w.text))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
}
function until(who: string, text: string, timeoutMs = 5000): Promise<void> {
  if (seen.get(who)?.some((line) => line.includes(text))) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`[${who}] never saw "${text}"`)), timeoutMs);
    waiters.push({ who, text, resolve: () => (clearTimeout(timer), resolve()) });
  });
}
function step(text: string): void {
  console.log(`${ms()}  --- ${text}`);
}

let server: NsServer<ChatEvents> = await startChatServer(0, logFor('server'));
const port = server.address().port;
step(`server listening on 127.0.0.1:${port}`);

const alice = await connectChatClient({ port, name: 'alice' }, logFor('alice'));
const bob = await connectChatClient({ port, name: 'bob' }, logFor('bob'));
await until('alice', 'bob is here');

step('alice says hi; bob gets it through his data(["chat", "*"]) listener');
alice.send(['chat', 'say'], { name: 'alice', text: 'hi bob' });
await until('bob', 'alice: hi bob');

step('bob sends 1 KiB of raw bytes (a Buffer, no JSON)');
bob.send(['file', 'chunk'], Buffer.alloc(1024, 0xab));
await until('alice', 'bob shared 1024 bytes');

step('the server restarts; alice types while it is away');
const lost = Promise.all([until('alice', 'lost the server'), until('bob', 'lost the server')]);
await server.close();
await lost;
alice.send(['chat', 'say'], { name: 'alice', text: 'anyone there?' }); // no link: into the offline queue
server = await startChatServer(port, logFor('server'));
step(`a new server listens on the same port ${port}`);
step('on reconnect the offline queue is flushed first, then the connect handler says hello again:');
step('so the server prints alice\'s queued line just before "alice joined"');
// alice's queued line goes out as soon as she reconnects (bob may still be on his way back).
await until('alice', 'alice: anyone there?');
await until('alice', 'bob is here');
step('both reconnected by themselves; the queued line was delivered; bob answers');
bob.send(['chat', 'say'], { name: 'bob', text: 'back!' });
await until('alice', 'bob: back!');

await Promise.all([alice.end(), bob.end()]);
await server.close();
step(`done: alice reconnected ${alice.stats.reconnects}x, bob ${bob.stats.reconnects}x; everything closed`);
