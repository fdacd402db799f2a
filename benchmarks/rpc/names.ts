// Contender names shared by the rpc suites (the targets and the curves refer to them).
export const RPC = '@proto/rpc';
export const RAW = 'raw length-prefixed JSON, per-tick batch';
export const NET_IPC = 'net-ipc';
export const CLI = '`proto bench` (CLI)';
