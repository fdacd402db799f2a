import { connect, createServer } from '@proto/ns';

const server = createServer((socket) => {
  socket.data(['**'], (data, event) => console.log('server got', event, data)); // ** = any event
  socket.send(['chat', 'welcome'], { text: 'hi' });
});
const { port } = await server.listen({ host: '127.0.0.1', port: 0 });

const client = await connect({ host: '127.0.0.1', port, reconnect: true, offlineQueue: true });
const welcome = new Promise((resolve) => client.dataOnce(['chat', '*'], resolve));
client.send(['chat', 'message'], { text: 'hello' });
client.send(['file', 'chunk'], Buffer.from([1, 2, 3]));  // raw bytes: no JSON, no base64
console.log('client got', await welcome);
await client.end();
await server.close();
