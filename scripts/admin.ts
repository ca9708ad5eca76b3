// Administration from the server's shell: bootstrap a hospital and its first admin, and recover lost access.
// Works in every profile, production included (unlike the seed). Honours DATABASE_URL, REDIS_URL,
// PUBLIC_URL (the links), SMTP_URL / MAIL_FROM (emails the links when set), SETUP_LINK_HOURS.
//
//   npm run admin -- create-hospital --name "St. Mary's" --slug st-marys --admin-email it@stmarys.org \
//                    [--admin-name "Ada Admin"] [--departments "ER:Emergency,ICU:Intensive Care" | --departments-file depts.json]
//   npm run admin -- create-department --hospital st-marys --code CARD --name Cardiology
//   npm run admin -- reset-admin --email it@stmarys.org
//
// Exit codes: 0 done (including "already existed"), 1 refused or failed, 2 usage error.
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { z } from 'zod';
import { BootstrapError, type CliDeps, createDepartmentBySlug, createHospital, resetAdmin } from '../server/accounts/bootstrap.js';
import { ConfigError, loadConfig } from '../server/config.js';
import { createDatabase, createPool } from '../server/db/client.js';
import { createLogger } from '../server/logger.js';
import { createFastFailRedis } from '../server/redis.js';

const USAGE = `usage: npm run admin -- <command> [options]
  create-hospital   --name NAME --slug SLUG --admin-email EMAIL [--admin-name NAME]
                    [--departments CODE:Name,CODE:Name | --departments-file FILE.json]
  create-department --hospital SLUG --code CODE --name NAME
  reset-admin       --email EMAIL`;

class UsageError extends Error {}

/** Who ran the command, for the audit metadata (a container's uid may have no passwd entry). */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`;
  }
}

const options = {
  name: { type: 'string' },
  slug: { type: 'string' },
  'admin-email': { type: 'string' },
  'admin-name': { type: 'string' },
  departments: { type: 'string' },
  'departments-file': { type: 'string' },
  hospital: { type: 'string' },
  code: { type: 'string' },
  email: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function required(values: Record<string, unknown>, ...keys: string[]): void {
  const missing = keys.filter((k) => typeof values[k] !== 'string' || !(values[k] as string).trim());
  if (missing.length) throw new UsageError(`missing ${missing.map((k) => `--${k}`).join(', ')}`);
}

/** "ER:Emergency,ICU:Intensive Care", or a JSON file holding [{ "code": "ER", "name": "Emergency" }, …]. */
function departmentsOf(values: { departments?: string; 'departments-file'?: string }): { code: string; name: string }[] {
  if (values.departments && values['departments-file']) throw new UsageError('give --departments or --departments-file, not both');
  if (values['departments-file']) {
    const parsed = z.array(z.object({ code: z.string(), name: z.string() })).safeParse(JSON.parse(readFileSync(values['departments-file'], 'utf8')));
    if (!parsed.success) throw new UsageError(`${values['departments-file']}: expected [{ "code": "ER", "name": "Emergency" }, …]`);
    return parsed.data;
  }
  if (!values.departments) return [];
  return values.departments.split(',').filter((s) => s.trim()).map((pair) => {
    const at = pair.indexOf(':');
    if (at < 1) throw new UsageError(`--departments: "${pair}" is not CODE:Name`);
    return { code: pair.slice(0, at).trim(), name: pair.slice(at + 1).trim() };
  });
}

const said = (created: boolean) => (created ? 'created' : 'existed');

function printLink(link: { url: string; expiresAt: string; emailed: boolean }, to: string): void {
  console.log(`\none-time setup link for ${to} (valid until ${link.expiresAt}${link.emailed ? `, also emailed to ${to}` : ''}):\n  ${link.url}`);
}

async function run(command: string, values: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'], deps: CliDeps, osUser: string): Promise<void> {
  if (command === 'create-hospital') {
    required(values, 'name', 'slug', 'admin-email');
    const r = await createHospital(
      deps,
      { name: values.name as string, slug: values.slug as string, adminEmail: values['admin-email'] as string, adminName: values['admin-name'], departments: departmentsOf(values) },
      osUser,
    );
    console.log(`hospital   ${r.hospital.slug} "${r.hospital.name}": ${said(r.hospital.created)} (id ${r.hospital.id})`);
    for (const d of r.departments) console.log(`department ${d.code} "${d.name}": ${said(d.created)}`);
    const state = r.admin.created ? 'created' : r.admin.setupPending ? 'existed, setup not finished: new link issued (the previous one no longer works)' : 'existed and has signed in: no new link (use reset-admin for lost access)';
    console.log(`admin      ${r.admin.email}: ${state}`);
    if (r.link) printLink(r.link, r.admin.email);
    return;
  }
  if (command === 'create-department') {
    required(values, 'hospital', 'code', 'name');
    const d = await createDepartmentBySlug(deps, { hospital: values.hospital as string, code: values.code as string, name: values.name as string }, osUser);
    console.log(`department ${d.code} "${d.name}" of ${values.hospital}: ${said(d.created)} (id ${d.id})`);
    return;
  }
  if (command === 'reset-admin') {
    required(values, 'email');
    const r = await resetAdmin(deps, values.email as string, osUser);
    console.log(`admin ${values.email} of ${r.hospitalSlug}: ${r.revokedSessions} session(s) ended, password removed${r.twoFactorCleared ? ', two-factor authentication removed (enrol again after setup)' : ''}`);
    printLink(r.link, values.email as string);
    return;
  }
  throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ options, allowPositionals: true, strict: true });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const command = parsed.positionals[0] ?? '';
  if (parsed.values.help || !command) {
    console.log(USAGE);
    return command || parsed.values.help ? 0 : 2;
  }
  const config = loadConfig();
  // The log (warnings: Redis unreachable, email not sent) goes to stderr; stdout is the report.
  const log = createLogger({ ...config, logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel }, pino.destination(2));
  const pool = createPool(config, { max: 2 });
  const redis = createFastFailRedis(config.redis, 'clarion-admin-cli');
  redis.on('error', () => undefined);
  // Revoked sessions are announced on Redis so live sockets close now; without Redis they close at
  // their next session check, so an unreachable Redis only warns.
  const ready = await Promise.race([new Promise<boolean>((r) => redis.once('ready', () => r(true))), new Promise<boolean>((r) => setTimeout(() => r(false), 3_000))]);
  if (!ready) log.warn('Redis is unreachable: live sockets of revoked sessions close at their next session check instead of now');
  try {
    await run(command, parsed.values, { config, log, db: createDatabase(pool), redis }, osUser());
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${USAGE}`);
      return 2;
    }
    if (err instanceof z.ZodError) {
      console.error(err.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('\n'));
      return 2;
    }
    if (err instanceof BootstrapError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  } finally {
    // QUIT is sent after the pending PUBLISH, so the control message goes out before the process ends.
    if (ready) await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ConfigError ? err.message : `admin failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
