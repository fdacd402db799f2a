import { idleSuite } from '../lib/idle-suite.js';
import { RPC } from './names.js';

const IDLE = new URL('./idle.ts', import.meta.url).href;
const NS_PEERS = new URL('../ns/idle-peers.ts', import.meta.url).href;

const REFERENCE = 'raw net.Server';

export const rpcIdleSuite = idleSuite({
  id: 'rpc-idle',
  title: 'rpc idle memory: server heap per idle authenticated peer',
  what: 'idle authenticated peers on one server process',
  contenders: [
    { name: RPC, module: IDLE, server: 'rpcIdleServer', client: 'rpcIdleClient', breakdown: true },
    { name: REFERENCE, module: NS_PEERS, server: 'rawServer', client: 'rawClient' },
  ],
  reference: REFERENCE,
  target: { label: 'rpc idle peer', contender: RPC, maxBytes: 3.5 * 1024 },
  notes: [
    'Each @proto/rpc client connects and authenticates with a password (default options otherwise: keepalive on); the server counts a peer on its `authenticated` event.',
  ],
});
