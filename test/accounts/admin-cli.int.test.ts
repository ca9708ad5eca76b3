import { mkdirSync, writeFileSync } from 'node:fs';
import { eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { departments, hospitals, users } from '../../server/db/schema.js';
import { defaultHospitalSettings } from '../../server/hospitals/settings.js';
import { runScript } from '../support/cli.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, collectEvents, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants } from '../support/tenants.js';
import { GOOD_PASSWORD, tokenIn, totpFor, trpcError } from './helpers.js';

let env: TestEnv;
let server: TestServer;
let anonymous: ReturnType<typeof clientFor>;

beforeAll(async () => {
  // No SMTP_URL here: links are printed (and returned to admins) instead of emailed.
  env = await createTestEnv({ PUBLIC_URL: 'https://clarion.example.org' });
  server = await startTestServer(env);
  anonymous = clientFor(server);
});

/** Runs the CLI as a child process against this file's database and Redis prefix. */
const admin = (...args: string[]) => runScript('scripts/admin.ts', args, env.childEnv);

const count = async () =>
  (
    await env.deps.db.execute<{ h: number; d: number; u: number }>(
      sql`SELECT (SELECT count(*)::int FROM hospitals) AS h, (SELECT count(*)::int FROM departments) AS d, (SELECT count(*)::int FROM users) AS u`,
    )
  ).rows[0];
const auditRows = async (hospitalId: string) =>
  (
    await env.deps.db.execute<{ action: string; user_id: string | null; user_agent: string; metadata: Record<string, unknown> }>(
      sql`SELECT action, user_id, user_agent, metadata FROM audit_logs WHERE hospital_id = ${hospitalId} ORDER BY seq`,
    )
  ).rows;

const bootstrap = ['create-hospital', '--name', "St. Mary's Hospital", '--slug', 'st-marys', '--admin-email', 'It.Admin@StMarys.example', '--admin-name', 'Ada Admin', '--departments', 'ER:Emergency,ICU:Intensive Care'];

// Each case starts the CLI as its own process (a few seconds each on a busy 2-core machine).
describe('npm run admin', { timeout: 120_000 }, () => {
  let firstToken: string;
  let hospitalId: string;

  it('create-hospital creates the hospital, its departments and its first admin with a setup link, audited', async () => {
    const r = await admin(...bootstrap);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/hospital\s+st-marys "St. Mary's Hospital": created/);
    expect(r.stdout).toMatch(/department ER "Emergency": created/);
    expect(r.stdout).toMatch(/department ICU "Intensive Care": created/);
    expect(r.stdout).toMatch(/admin\s+it\.admin@stmarys\.example: created/);
    expect(r.stdout).toContain('https://clarion.example.org/setup?token=');
    firstToken = tokenIn(r.stdout);

    const [h] = await env.deps.db.select().from(hospitals).where(eq(hospitals.slug, 'st-marys'));
    hospitalId = h?.id as string;
    expect(h?.settings).toEqual(defaultHospitalSettings);
    expect((await env.deps.db.select().from(departments).where(eq(departments.hospitalId, hospitalId))).map((d) => d.code).sort()).toEqual(['ER', 'ICU']);
    const [a] = await env.deps.db.select().from(users).where(eq(users.email, 'it.admin@stmarys.example'));
    expect(a).toMatchObject({ role: 'admin', name: 'Ada Admin', hospitalId, passwordHash: null, emailVerified: false });

    const rows = await auditRows(hospitalId);
    expect(rows.map((x) => x.action)).toEqual(['hospital.created', 'department.created', 'department.created', 'user.created', 'account.setup_link_issued']);
    for (const row of rows) expect(row).toMatchObject({ user_id: null, user_agent: 'clarion-admin-cli' });
    expect(rows[0]?.metadata).toMatchObject({ via: 'admin-cli', slug: 'st-marys' });
    // The chain the CLI wrote verifies.
    const { rows: verified } = await env.deps.db.execute<{ rows_checked: string; problem: string | null }>(sql`SELECT * FROM audit_verify(${hospitalId})`);
    expect(verified[0]).toMatchObject({ problem: null });
    expect(Number(verified[0]?.rows_checked)).toBe(5);
  });

  it('is idempotent: a second run duplicates nothing, says what existed, and replaces the unused link', async () => {
    const before = await count();
    const r = await admin(...bootstrap);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/hospital\s+st-marys .*: existed/);
    expect(r.stdout).toMatch(/department ER "Emergency": existed/);
    expect(r.stdout).toMatch(/admin\s+it\.admin@stmarys\.example: existed, setup not finished: new link issued/);
    expect(await count()).toEqual(before);
    const second = tokenIn(r.stdout);
    expect((await trpcError(anonymous.accounts.getSetupInfo.mutate({ token: firstToken }))).code).toBe('UNAUTHORIZED');
    expect((await anonymous.accounts.getSetupInfo.mutate({ token: second })).email).toBe('it.admin@stmarys.example');
    firstToken = second;
  });

  it('takes departments from a JSON file and refuses an email owned by another account, creating nothing', async () => {
    const dir = new URL('../../test-artifacts/accounts', import.meta.url).pathname;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/depts.json`, JSON.stringify([{ code: 'card', name: 'Cardiology' }]));
    const ok = await admin('create-hospital', '--name', 'Lakeside Clinic', '--slug', 'lakeside', '--admin-email', 'admin@lakeside.example', '--departments-file', `${dir}/depts.json`);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/department CARD "Cardiology": created/);

    const before = await count();
    const taken = await admin('create-hospital', '--name', 'Hilltop', '--slug', 'hilltop', '--admin-email', 'it.admin@stmarys.example');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/already belongs to another account/);
    expect(await count()).toEqual(before);

    const usage = await admin('create-hospital', '--name', 'No Slug');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/missing --slug, --admin-email/);
    const badSlug = await admin('create-hospital', '--name', 'Bad', '--slug', 'Bad Slug!', '--admin-email', 'x@bad.example');
    expect(badSlug.code).toBe(2);
    expect(badSlug.stderr).toMatch(/slug/);
  });

  it('create-department adds a department once', async () => {
    const first = await admin('create-department', '--hospital', 'st-marys', '--code', 'peds', '--name', 'Paediatrics');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/department PEDS "Paediatrics" of st-marys: created/);
    const again = await admin('create-department', '--hospital', 'st-marys', '--code', 'PEDS', '--name', 'Paediatrics');
    expect(again.stdout).toMatch(/existed/);
    expect((await env.deps.db.select().from(departments).where(eq(departments.code, 'PEDS'))).length).toBe(1);
    const none = await admin('create-department', '--hospital', 'nowhere', '--code', 'X', '--name', 'Nothing');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no hospital with slug "nowhere"/);
    expect((await auditRows(hospitalId)).filter((r) => r.action === 'department.created')).toHaveLength(3);
  });

  it('the first admin signs in through the link and sets up the 2FA the default settings require; reset-admin recovers lost access', async () => {
    const done = await anonymous.accounts.completeSetup.mutate({ token: firstToken, password: GOOD_PASSWORD });
    expect(done.user).toMatchObject({ role: 'admin', mustSetupTwoFactor: true, mustChangePassword: false });
    const session = clientFor(server, done.token);
    expect((await trpcError(session.users.getAll.query({}))).code).toBe('FORBIDDEN');
    await session.auth.setupTwoFactor.mutate().then(async (s) => session.auth.enableTwoFactor.mutate({ totp: await totpFor(s.otpauthUri) }));
    expect((await session.users.getAll.query({})).users.map((u) => u.email)).toEqual(['it.admin@stmarys.example']);
    // Without SMTP, users.create hands the admin the new user's link to pass on.
    const created = await session.users.create.mutate({ name: 'Olga Operator', email: 'olga@stmarys.example', role: 'operator' });
    expect(created.setupLink).toMatchObject({ emailed: false });
    expect(created.setupLink.url).toMatch(/^https:\/\/clarion\.example\.org\/setup\?token=/);

    // A live board socket of the admin, closed by the reset.
    const board = collectEvents(session);
    await board.started;

    const reset = await admin('reset-admin', '--email', 'it.admin@stmarys.example');
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/1 session\(s\) ended, password removed, two-factor authentication removed/);
    const token = tokenIn(reset.stdout);

    expect((await trpcError(session.auth.me.query())).code).toBe('UNAUTHORIZED');
    await board.until(() => board.errors.length > 0, 5_000);
    expect(board.errors[0]?.code).toBe('UNAUTHORIZED');
    expect((await trpcError(anonymous.auth.login.mutate({ email: 'it.admin@stmarys.example', password: GOOD_PASSWORD }))).code).toBe('UNAUTHORIZED');
    const [row] = await env.deps.db.select().from(users).where(eq(users.email, 'it.admin@stmarys.example'));
    expect(row).toMatchObject({ passwordHash: null, twoFactorEnabled: false, twoFactorSecret: null });

    expect((await anonymous.accounts.getSetupInfo.mutate({ token })).purpose).toBe('password_reset');
    const again = await anonymous.accounts.completeSetup.mutate({ token, password: `${GOOD_PASSWORD}-new` });
    expect(again.user).toMatchObject({ mustSetupTwoFactor: true, twoFactorEnabled: false });
    const login = await anonymous.auth.login.mutate({ email: 'it.admin@stmarys.example', password: `${GOOD_PASSWORD}-new` });
    expect(login.status).toBe('ok');

    const actions = (await auditRows(hospitalId)).map((r) => r.action);
    expect(actions).toContain('account.admin_reset');
    expect(actions.filter((a) => a === 'account.setup_completed')).toHaveLength(2);

    // Already signed in once: re-running create-hospital does not hand out another link.
    const rerun = await admin(...bootstrap);
    expect(rerun.stdout).toMatch(/existed and has signed in: no new link/);
    expect(rerun.stdout).not.toContain('/setup?token=');
  });

  it('reset-admin refuses unknown users and non-admins', async () => {
    await seedTenants(env);
    const unknown = await admin('reset-admin', '--email', 'nobody@nowhere.example');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no user with email/);
    const nurse = await admin('reset-admin', '--email', 'nurse.icu@general.test');
    expect(nurse.code).toBe(1);
    expect(nurse.stderr).toMatch(/not an admin/);
  });
});
