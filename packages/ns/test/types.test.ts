import { describe, expectTypeOf, it } from 'vitest';
import { connect, createServer, type NsReconnectingInfo, NsSocket, type ProtoError } from '@proto/ns';

interface ChatEvents {
  'chat::message': { text: string };
  'chat::typing': boolean;
  'file::chunk': Buffer;
  ping: undefined;
  [event: `room::${string}::join`]: { user: string };
}

describe('types', () => {
  it('typed event maps type send and data payloads', () => {
    const socket = new NsSocket<ChatEvents>();
    const typeOnly = (): void => {
      socket.send('chat::message', { text: 'hi' });
      socket.send(['chat', 'message'], { text: 'hi' });
      socket.send('ping');
      // @ts-expect-error wrong payload type
      socket.send('chat::message', { text: 1 });
      // @ts-expect-error missing payload
      socket.send('chat::message');
      // @ts-expect-error unknown event
      socket.send('chat::unknown', 1);
      socket.data('chat::message', (data, event) => {
        expectTypeOf(data).toEqualTypeOf<{ text: string }>();
        expectTypeOf(event).toEqualTypeOf<string[]>();
      });
      socket.data(['chat', '*'], (data) => {
        expectTypeOf(data).toEqualTypeOf<{ text: string } | boolean>();
      });
      socket.data('**', (data) => {
        expectTypeOf(data).toEqualTypeOf<{ text: string } | boolean | Buffer | undefined | { user: string }>();
      });
      socket.data('nothing::matches', (data) => {
        expectTypeOf(data).toBeUnknown();
      });
    };
    expectTypeOf(typeOnly).toBeFunction();
  });

  it('untyped sockets take any name and unknown data', () => {
    const socket = new NsSocket();
    const typeOnly = (): void => {
      socket.send('anything::at::all', { x: 1 });
      socket.send(['a', 'b'], Buffer.alloc(1));
      socket.send('no-data');
      socket.data('a::*', (data, event) => {
        expectTypeOf(data).toBeUnknown();
        expectTypeOf(event).toEqualTypeOf<string[]>();
      });
    };
    expectTypeOf(typeOnly).toBeFunction();
  });

  it('lifecycle events are typed', () => {
    const socket = new NsSocket();
    socket.on('reconnecting', (info) => expectTypeOf(info).toEqualTypeOf<NsReconnectingInfo>());
    socket.on('close', (error) => expectTypeOf(error).toEqualTypeOf<Error | undefined>());
    socket.on('error', (error) => expectTypeOf(error).toEqualTypeOf<ProtoError | NodeJS.ErrnoException>());
    socket.on('error', (error) => expectTypeOf(error.code).toEqualTypeOf<string | undefined>());
    expectTypeOf(connect<ChatEvents>).returns.resolves.toEqualTypeOf<NsSocket<ChatEvents>>();
    const server = createServer<ChatEvents>((peer) => expectTypeOf(peer).toEqualTypeOf<NsSocket<ChatEvents>>());
    expectTypeOf(server.broadcast).toBeFunction();
    socket.removeAllListeners();
  });
});
