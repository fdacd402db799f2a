import { idleSuite } from '../lib/idle-suite.js';

const PEERS = new URL('./idle-peers.ts', import.meta.url).href;
const PROTO = new URL('./idle-proto.ts', import.meta.url).href;

const NS = '@proto/ns';
const REFERENCE = 'raw net.Server';

export const nsIdleSuite = idleSuite({
  id: 'ns-idle',
  title: 'ns idle memory: server heap per idle connection',
  what: 'idle connections to one server process',
  contenders: [
    { name: NS, module: PROTO, server: 'nsServer', client: 'nsClient', breakdown: true },
    { name: REFERENCE, module: PEERS, server: 'rawServer', client: 'rawClient' },
    { name: 'nssocket', module: PEERS, server: 'nssocketServer', client: 'nssocketClient' },
  ],
  reference: REFERENCE,
  target: { label: 'ns idle', contender: NS, maxBytes: 2.5 * 1024 },
  notes: [],
});
