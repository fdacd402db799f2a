// Chat client: type lines to say them, `/file` to send 1 KiB of raw bytes, Ctrl+D or Ctrl+C to quit.
//   npx tsx --conditions=@proto/source examples/ns-chat/client.ts --name alice [--port 7070]
import { createInterface } from 'node:readline';
import { connectChatClient } from './chat-client.js';
import { arg, DEFAULT_PORT } from './protocol.js';

const port = Number(arg('port', String(DEFAULT_PORT)));
const name = arg('name', `guest${process.pid % 1000}`);
const client = await connectChatClient({ port, name }, (line) => console.log(line));
console.log(`connected to 127.0.0.1:${port} as ${name}`);

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  if (line === '/file') client.send(['file', 'chunk'], Buffer.alloc(1024, 0xab));
  else if (line.trim() !== '') client.send(['chat', 'say'], { name, text: line });
});
input.on('close', () => void client.end());
process.once('SIGINT', () => input.close());
client.on('close', () => process.exit(0));
