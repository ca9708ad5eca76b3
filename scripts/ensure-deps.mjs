// `npm start` and `npm test` work on a fresh clone: install exactly the locked dependencies first.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../node_modules/.package-lock.json', import.meta.url))) {
  console.log('node_modules is missing: running npm ci');
  execSync('npm ci', { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
}
