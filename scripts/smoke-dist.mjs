// Loads every built package under plain node, as a consumer would: ESM import and require().
// vitest's interop hides CommonJS/ESM mistakes that plain Node rejects, so this runs on dist only.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const require = createRequire(import.meta.url);
const packages = ['framing', 'ns', 'rpc', 'cluster', 'cli'];
let failures = 0;

for (const name of packages) {
  const dir = new URL(`../packages/${name}/`, import.meta.url);
  const manifest = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8'));
  const entry = new URL(manifest.exports['.'].default, dir);
  try {
    const esm = await import(entry.href);
    const cjs = require(entry.pathname);
    const exported = Object.keys(esm);
    if (exported.length === 0) throw new Error('no exports');
    if (Object.keys(cjs).length !== exported.length) throw new Error('require() and import disagree');
    console.log(`ok ${manifest.name}: ${exported.length} exports via import and require()`);
    // Subpath entries (framing's private ./internal) load the same way.
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (subpath === '.' || typeof target !== 'object' || target.default === undefined) continue;
      const url = new URL(target.default, dir);
      const sub = Object.keys(await import(url.href));
      if (sub.length === 0 || Object.keys(require(url.pathname)).length !== sub.length) {
        throw new Error(`${subpath}: import and require() disagree or export nothing`);
      }
      console.log(`ok ${manifest.name}/${subpath.slice(2)}: ${sub.length} exports via import and require()`);
    }
  } catch (err) {
    failures++;
    console.error(`FAIL ${manifest.name}:`, err);
  }
}
// @proto/cli's bin under plain node, from dist: --help lists the commands, bad usage exits 2.
{
  const bin = new URL('../packages/cli/dist/bin.js', import.meta.url).pathname;
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  const usage = spawnSync(process.execPath, [bin, 'call'], { encoding: 'utf8' });
  if (help.status === 0 && /^ {2}serve /m.test(help.stdout) && usage.status === 2 && usage.stderr.startsWith('ERR_USAGE: ')) {
    console.log('ok proto bin: --help exits 0, bad usage exits 2 under plain node');
  } else {
    failures++;
    console.error('FAIL proto bin:', { help, usage });
  }
}
process.exitCode = failures === 0 ? 0 : 1;
