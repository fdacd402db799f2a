import { connect, createServer } from '@proto/framing';

const server = createServer((socket) => socket.on('frame', (frame) => socket.send(frame))); // echo
const { port } = await server.listen({ host: '127.0.0.1', port: 0 });

const client = await connect({ host: '127.0.0.1', port });
client.on('frame', (frame) => console.log('echo', frame.toString())); // frames are bytes (Buffer)
client.send('hello');                            // one frame, however TCP splits or merges it
client.send(['head:', Buffer.from([1, 2, 3])]);  // two parts, ONE frame (gather write, no concat)
await client.end();                              // flush, half-close, resolve once both sides closed
await server.close();
