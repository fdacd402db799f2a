// Chat server. Run it in one terminal, clients in others:
//   npx tsx --conditions=@proto/source examples/ns-chat/server.ts [--port 7070]
// Ctrl+C closes it gracefully; start it again and the clients reconnect by themselves.
import { startChatServer } from './chat-server.js';
import { arg, DEFAULT_PORT } from './protocol.js';

const port = Number(arg('port', String(DEFAULT_PORT)));
const server = await startChatServer(port, (line) => console.log(line));
console.log(`chat server on 127.0.0.1:${port} (Ctrl+C to stop)`);
process.once('SIGINT', () => {
  console.log('closing…');
  void server.close({ timeoutMs: 2000 });
});
