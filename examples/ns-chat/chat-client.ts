import { connect, type NsSocket } from '@proto/ns';
import type { ChatEvents } from './protocol.js';

/**
 * Connects a chat client that survives server restarts:
 * - `reconnect`: capped exponential backoff with jitter, forever, until `end()`;
 * - `offlineQueue`: lines typed while the server is away are queued and sent, in order, on reconnect.
 */
export async function connectChatClient(
  options: { port: number; name: string },
  log: (line: string) => void,
): Promise<NsSocket<ChatEvents>> {
  const client = await connect<ChatEvents>({
    host: '127.0.0.1',
    port: options.port,
    reconnect: { initialDelayMs: 100, maxDelayMs: 2000 },
    offlineQueue: { maxMessages: 100 },
  });
  // One wildcard listener for every room:: event; `kind` is the segment the * matched.
  client.data(['room', '*'], (data, [, kind]) => {
    if ('text' in data) log(`${data.from}: ${data.text}`);
    else if ('bytes' in data) log(`* ${data.from} shared ${data.bytes} bytes`);
    else log(kind === 'joined' ? `* ${data.name} is here` : `* ${data.name} left`);
  });
  client.on('disconnect', () => log('~ lost the server; messages you type now are queued'));
  client.on('reconnecting', ({ attempt, delayMs }) => log(`~ reconnect attempt ${attempt} in ${delayMs} ms`));
  // 'connect' fires on every (re)connect: say who we are each time (the offline queue went out just before).
  client.on('connect', () => client.send(['chat', 'hello'], { name: options.name }));
  client.send(['chat', 'hello'], { name: options.name });
  return client;
}
