import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { connect, createServer, type NsDisconnectMessage } from '@proto/ns';

describe('server.close() while a link is still opening', () => {
  it('the half-opened link just closes: no error from sending READY on an ending transport', async () => {
    const serverSide: NsDisconnectMessage[] = [];
    const onDisconnect = (message: unknown): void => {
      if ((message as NsDisconnectMessage).server) serverSide.push(message as NsDisconnectMessage);
    };
    diagnosticsChannel.subscribe('proto:ns:disconnect', onDisconnect);
    const clientErrors: Error[] = [];
    const server = createServer(() => {});
    server.on('clientError', (error) => clientErrors.push(error));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    try {
      const client = await connect({ host: '127.0.0.1', port });
      client.on('error', () => {});
      // The client is open once the server's hello is in; the server has not read the client's yet.
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      await server.close();
      await closed;
      expect(clientErrors).toEqual([]);
      expect(serverSide.map((message) => message.error?.code)).not.toContain('ERR_NOT_CONNECTED');
    } finally {
      diagnosticsChannel.unsubscribe('proto:ns:disconnect', onDisconnect);
    }
  });
});
