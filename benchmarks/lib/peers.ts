import { readFileSync } from 'node:fs';

export const PEER_LIBRARIES = [
  'amp',
  'axon',
  'frame-stream',
  'it-length-prefixed',
  'jayson',
  'length-prefixed-stream',
  'net-ipc',
  'nossock',
  'nssocket',
  '@grpc/grpc-js',
  '@grpc/proto-loader',
  'uint8arraylist',
] as const;

/** Installed version of each peer, read from its own package.json (some don't export that path, so read the file). */
export function peerVersions(): { name: string; version: string }[] {
  return PEER_LIBRARIES.map((name) => {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version?: string };
      return { name, version: pkg.version ?? '?' };
    } catch {
      return { name, version: 'not installed' };
    }
  });
}
