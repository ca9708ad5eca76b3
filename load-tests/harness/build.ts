/**
 * The harness measures Clarion as production runs it: compiled JS under plain node (npm run build:server),
 * not the sources through the tsx loader (which alone adds ~50 MB RSS per process). dist/ is rebuilt when
 * it is missing or older than any source it is compiled from.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE_DIRS = ['server', 'worker', 'scripts', 'migrations'];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];
const OUTPUTS = ['dist/server/main.js', 'dist/worker/main.js'];

function newestSourceMs(root: string): number {
  let newest = 0;
  const consider = (path: string) => {
    newest = Math.max(newest, statSync(path).mtimeMs);
  };
  for (const f of SOURCE_FILES) if (existsSync(join(root, f))) consider(join(root, f));
  for (const dir of SOURCE_DIRS) {
    if (!existsSync(join(root, dir))) continue;
    for (const f of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
      if (/\.(ts|mjs|sql)$/.test(f) && !f.endsWith('.test.ts')) consider(join(root, dir, f));
    }
  }
  return newest;
}

/** Whether `root`'s dist/ is missing or older than its sources. */
export function buildIsStale(root: string): boolean {
  const outputs = OUTPUTS.map((f) => join(root, f));
  if (!outputs.every((f) => existsSync(f))) return true;
  const builtMs = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  return newestSourceMs(root) > builtMs;
}

/**
 * Makes `root`'s compiled server current and answers how to run it: 'dist', or 'tsx' for a checkout that
 * predates the build step (--server-root pointing at an older commit).
 */
export function ensureServerBuild(root: string, log: (line: string) => void): 'dist' | 'tsx' {
  const script = join(root, 'scripts/build-server.mjs');
  if (!existsSync(script)) {
    log(`${root} has no scripts/build-server.mjs: running its server and worker from source (tsx)`);
    return 'tsx';
  }
  if (!buildIsStale(root)) return 'dist';
  log(`building ${join(root, 'dist')} (npm run build:server)`);
  try {
    execFileSync(process.execPath, [script], { cwd: root, stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`build:server failed in ${root}:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`);
  }
  return 'dist';
}
