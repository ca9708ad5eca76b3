// npm run build:server [-- <outDir>]: server, worker and the operational scripts compiled to plain JS
// (tsconfig.build.json) in dist/, with the SQL migrations beside them, so production and the load
// harness run `node dist/...` without the tsx loader (~50 MB less per process, faster start).
// Plain .mjs so it runs before anything is built. The output lands in a staging directory and is
// swapped in at the end: a process already running from dist/ never sees a half-written tree.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = resolve(root, process.argv[2] ?? 'dist');
const staging = `${out}.tmp-${process.pid}`;
const old = `${out}.old-${process.pid}`;

rmSync(staging, { recursive: true, force: true });
try {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', staging], { cwd: root, stdio: 'inherit' });
  // Read at runtime relative to the compiled files (new URL('../migrations', import.meta.url)).
  const migrations = join(root, 'migrations');
  cpSync(migrations, join(staging, 'migrations'), { recursive: true, filter: (src) => src === migrations || src.endsWith('.sql') });
  const maps = readdirSync(staging, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.map'));
  if (maps.length) throw new Error(`source maps must not ship in the production build: ${maps.join(', ')}`);
  if (existsSync(out)) renameSync(out, old);
  renameSync(staging, out);
  rmSync(old, { recursive: true, force: true });
} catch (err) {
  rmSync(staging, { recursive: true, force: true });
  console.error(`build:server failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
