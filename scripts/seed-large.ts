// Benchmark data set (npm run seed -- --scale large): a separate hospital 'bench' with 20 departments,
// 100,000 users, 10,000,000 audit rows over six years (one hash chain) and a few thousand closed alerts.
// Rows go in with COPY; audit rows bypass the per-row trigger (session_replication_role = replica, so a
// superuser is needed) and their chain is computed in Node exactly as audit_row_hash() computes it.
// Everything is one transaction: a failed run leaves nothing, and a finished one is not repeated.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import cliProgress from 'cli-progress';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { assertSuperuser, copyAuditLines } from '../server/audit/bulk.js';
import { auditCopyLine, type ChainRow, copyField, GENESIS_HASH, type JsonValue, plusYearsMicros, rowHash } from '../server/audit/chain.js';
import { hashPassword } from '../server/auth/passwords.js';
import { DEV_PASSWORD } from '../server/seed/dev.js';
import { defaultHospitalSettings } from '../server/hospitals/settings.js';
import type { Role } from '../server/permissions.js';

export interface LargeSeedOptions {
  users?: number;
  auditRows?: number;
  alerts?: number;
  years?: number;
  slug?: string;
  /** Progress bars and a summary on the terminal (default on: `npm run seed -- --scale large`). */
  progress?: boolean;
}

export interface LargeSeedReport {
  hospitalId: string;
  users: number;
  auditRows: number;
  alerts: number;
  alertEvents: number;
  seconds: number;
}

// --- fast ids and random picks (millions of rows: no per-row crypto calls) ---
let pool = '';
let at = 0;
function randomHex(n: number): string {
  if (at + n > pool.length) {
    pool = randomBytes(1 << 20).toString('hex');
    at = 0;
  }
  at += n;
  return pool.slice(at - n, at);
}
/** A UUIDv7 whose time part is `ms`, as uuid_v7() would have produced at that moment. */
function uuidv7At(ms: number): string {
  const t = Math.floor(ms).toString(16).padStart(12, '0');
  const r = randomHex(19);
  const variant = '89ab'[Number.parseInt(r[3]!, 16) & 3];
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(0, 3)}-${variant}${r.slice(4, 7)}-${r.slice(7, 19)}`;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

const FIRST = ['Ada', 'Ben', 'Chloe', 'Dev', 'Elena', 'Farid', 'Grace', 'Hugo', 'Iris', 'Jonah', 'Kira', 'Liam', 'Maya', 'Noor', 'Omar', 'Priya'];
const LAST = ['Adams', 'Baker', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Haddad', 'Ito', 'Jensen', 'Kowalski', 'Lopez', 'Moreau', 'Nakamura'];
const AGENTS = ['Mozilla/5.0 (Windows NT 10.0) Chrome/126', 'Mozilla/5.0 (Macintosh) Safari/17', 'WardBoard/1.4 (Linux)', 'k6/0.52', 'Mozilla/5.0 (X11; Linux) Firefox/128'];
// [action, resource, weight]
const ACTIONS: [string, string, number][] = [
  ['auth.login', 'session', 30],
  ['auth.logout', 'session', 10],
  ['user.viewed', 'user', 15],
  ['alert.created', 'alert', 10],
  ['alert.acknowledged', 'alert', 10],
  ['alert.resolved', 'alert', 9],
  ['alert.escalated', 'alert', 3],
  ['alert.cancelled', 'alert', 2],
  ['user.updated', 'user', 3],
  ['auth.password_changed', 'user', 2],
  ['hospital.settings_updated', 'hospital', 1],
  ['auth.lockout', 'user', 1],
];
const ACTION_TABLE = ACTIONS.flatMap(([a, r, w]) => Array.from({ length: w }, () => [a, r] as const));

function roleFor(i: number): Role {
  if (i < 20) return 'admin';
  const m = i % 50;
  return m < 2 ? 'operator' : m < 3 ? 'head_doctor' : m < 30 ? 'nurse' : 'doctor';
}

async function copyRows(client: pg.PoolClient, table: string, columns: string[], lines: Iterable<string>): Promise<void> {
  await pipeline(Readable.from(lines), client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)));
}
const field = (v: string | number | boolean | null) => copyField(typeof v === 'boolean' ? String(v) : v);
const line = (vs: (string | number | boolean | null)[]) => vs.map(field).join('\t') + '\n';

/** The connection string without its password, to print. */
function displayUrl(url: string | undefined): string {
  if (!url) return '<your DATABASE_URL>';
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

function bar(enabled: boolean, label: string, total: number) {
  if (!enabled) return { update: (_n: number) => {}, stop: () => {} };
  const b = new cliProgress.SingleBar(
    { format: `${label.padEnd(11)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} elapsed, eta {eta_formatted}`, etaBuffer: 200, noTTYOutput: true, notTTYSchedule: 10_000 },
    cliProgress.Presets.shades_classic,
  );
  b.start(total, 0);
  return { update: (n: number) => b.update(n), stop: () => b.stop() };
}

export async function seedLarge(db: pg.Pool, options: LargeSeedOptions = {}): Promise<LargeSeedReport | null> {
  const o = { users: 100_000, auditRows: 10_000_000, alerts: 5_000, years: 6, slug: 'bench', progress: true, ...options };
  const started = performance.now();
  const client = await db.connect();
  try {
    await assertSuperuser(client);
    await client.query('SET statement_timeout = 0');
    await client.query('SET synchronous_commit = off');
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('clarion:seed-large', 0))`);
    const exists = await client.query('SELECT 1 FROM hospitals WHERE slug = $1', [o.slug]);
    const { rows: dbRows } = await client.query<{ db: string }>('SELECT current_database() AS db');
    const dbName = dbRows[0]!.db;
    if (exists.rowCount) {
      await client.query('ROLLBACK');
      if (o.progress) console.log(`hospital '${o.slug}' already exists in database ${dbName}: the large seed runs once, nothing to do`);
      return null;
    }
    const nowMs = Date.now();
    const startMs = nowMs - o.years * 365.25 * 86_400_000 + 86_400_000; // inside the retention window
    const endMs = nowMs - 60_000; // rows written later by the app follow on the chain
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO hospitals (name, slug, address, settings, created_at) VALUES ('Bench Hospital', $1, '1 Benchmark Way', $2, $3) RETURNING id`,
      [o.slug, JSON.stringify(defaultHospitalSettings), new Date(startMs)],
    );
    const hospitalId = rows[0]!.id;
    const deptIds: string[] = [];
    for (let d = 1; d <= 20; d++) {
      const r = await client.query<{ id: string }>('INSERT INTO departments (hospital_id, code, name) VALUES ($1, $2, $3) RETURNING id', [
        hospitalId,
        `D${String(d).padStart(2, '0')}`,
        `Ward ${d}`,
      ]);
      deptIds.push(r.rows[0]!.id);
    }

    // Users: one shared password hash (the development password), spread over roles and departments.
    const passwordHash = await hashPassword(DEV_PASSWORD);
    const userIds: string[] = [];
    const operators: string[] = [];
    const responders: string[] = [];
    const userBar = bar(o.progress, 'users', o.users);
    function* userLines(): Generator<string> {
      for (let i = 0; i < o.users; i++) {
        const created = startMs + Math.random() * (endMs - startMs) * 0.5;
        const id = uuidv7At(created);
        const role = roleFor(i);
        userIds.push(id);
        if (role === 'operator') operators.push(id);
        if (role === 'nurse' || role === 'doctor' || role === 'head_doctor') responders.push(id);
        const clinical = role === 'nurse' || role === 'doctor';
        const r = Math.random();
        const lastLogin = r < 0.8 ? nowMs - Math.random() * 80 * 86_400_000 : r < 0.95 ? nowMs - (100 + Math.random() * 900) * 86_400_000 : null;
        const email = i === 0 ? `admin@${o.slug}.test` : `user${i}@${o.slug}.test`;
        yield line([
          id,
          hospitalId,
          clinical || Math.random() < 0.3 ? deptIds[i % deptIds.length]! : null,
          email,
          true,
          `${pick(FIRST)} ${pick(LAST)} ${i}`,
          role,
          passwordHash,
          new Date(created).toISOString(),
          i === 0 || Math.random() > 0.03,
          lastLogin === null ? null : new Date(lastLogin).toISOString(),
          lastLogin === null ? null : `10.${i % 250}.${(i >> 8) % 250}.${i % 200}`,
          i > 0 && Math.random() < 0.3,
          new Date(created).toISOString(),
          new Date(created).toISOString(),
        ]);
        if (i % 5000 === 0) userBar.update(i);
      }
      userBar.update(o.users);
    }
    await copyRows(
      client,
      'users',
      ['id', 'hospital_id', 'department_id', 'email', 'email_verified', 'name', 'role', 'password_hash', 'password_changed_at', 'is_active', 'last_login_at', 'last_login_ip', 'two_factor_enabled', 'created_at', 'updated_at'],
      userLines(),
    );
    userBar.stop();

    // Alerts (all closed, so no timer fires for them) with their events, in time order.
    const alertIds: string[] = [];
    const events: { at: number; text: string }[] = [];
    const alertBar = bar(o.progress, 'alerts', o.alerts);
    function* alertLines(): Generator<string> {
      for (let i = 0; i < o.alerts; i++) {
        const created = startMs + ((i + Math.random()) / o.alerts) * (endMs - startMs - 3_600_000);
        const id = uuidv7At(created);
        alertIds.push(id);
        const dept = pick(deptIds);
        const by = pick(operators.length ? operators : userIds);
        const responder = pick(responders.length ? responders : userIds);
        const cancelled = Math.random() < 0.1;
        const ack = created + 5_000 + Math.random() * 120_000;
        const done = ack + 30_000 + Math.random() * 1_200_000;
        const iso = (ms: number) => new Date(ms).toISOString();
        const snapshot = {
          id,
          hospitalId,
          departmentId: dept,
          title: pick(['Cardiac arrest', 'Patient fall', 'IV pump occlusion', 'Smoke detector', 'Oxygen low']),
          description: null,
          priority: pick(['low', 'medium', 'high', 'critical']),
          alertType: pick(['medical', 'equipment', 'fire', 'security']),
          roomNumber: String(100 + (i % 400)),
          status: cancelled ? 'cancelled' : 'resolved',
          escalationLevel: 0,
          version: cancelled ? 2 : 3,
          createdBy: by,
          acknowledgedBy: cancelled ? null : responder,
          acknowledgedAt: cancelled ? null : iso(ack),
          resolvedBy: cancelled ? null : responder,
          resolvedAt: cancelled ? null : iso(done),
          cancelledBy: cancelled ? by : null,
          cancelledAt: cancelled ? iso(done) : null,
          createdAt: iso(created),
          updatedAt: iso(done),
        };
        const s = snapshot;
        const ev = (type: string, when: number, actor: string) =>
          events.push({ at: when, text: line([hospitalId, dept, id, type, actor, JSON.stringify({ ...s, status: type === 'created' ? 'active' : s.status }), 0, iso(when)]) });
        ev('created', created, by);
        if (cancelled) ev('cancelled', done, by);
        else {
          ev('acknowledged', ack, responder);
          ev('resolved', done, responder);
        }
        yield line([id, hospitalId, dept, s.title, null, s.priority, s.alertType, s.roomNumber, s.status, 0, s.version, by, s.acknowledgedBy, s.acknowledgedAt, s.resolvedBy, s.resolvedAt, s.cancelledBy, s.cancelledAt, s.createdAt, s.updatedAt]);
        if (i % 500 === 0) alertBar.update(i);
      }
      alertBar.update(o.alerts);
    }
    await copyRows(
      client,
      'alerts',
      ['id', 'hospital_id', 'department_id', 'title', 'description', 'priority', 'alert_type', 'room_number', 'status', 'escalation_level', 'version', 'created_by', 'acknowledged_by', 'acknowledged_at', 'resolved_by', 'resolved_at', 'cancelled_by', 'cancelled_at', 'created_at', 'updated_at'],
      alertLines(),
    );
    events.sort((a, b) => a.at - b.at);
    await copyRows(client, 'alert_events', ['hospital_id', 'department_id', 'alert_id', 'type', 'actor_id', 'alert', 'escalation_level', 'occurred_at'], events.map((e) => e.text));
    alertBar.stop();

    // Audit rows: one chain, seq 1..N, timestamps non-decreasing over the period, hashed here.
    await client.query('SET LOCAL session_replication_role = replica');
    const auditBar = bar(o.progress, 'audit rows', o.auditRows);
    const startUs = startMs * 1000;
    const stepUs = ((endMs - startMs) * 1000) / o.auditRows;
    async function* auditLines(): AsyncGenerator<string> {
      let prevHash = GENESIS_HASH;
      for (let i = 0; i < o.auditRows; i++) {
        const ts = Math.floor(startUs + (i + Math.random()) * stepUs);
        const [action, resource] = pick(ACTION_TABLE);
        const failed = action === 'auth.login' ? Math.random() < 0.08 : Math.random() < 0.01;
        const userId = action === 'alert.escalated' ? null : pick(userIds);
        const resourceId = resource === 'alert' ? pick(alertIds.length ? alertIds : userIds) : resource === 'user' ? pick(userIds) : resource === 'hospital' ? hospitalId : null;
        const metadata: JsonValue | null = failed ? { reason: pick(['bad_password', 'locked', 'totp_invalid']) } : i % 7 === 0 ? { seed: 'large', n: i % 97 } : null;
        const row: ChainRow = {
          id: uuidv7At(ts / 1000),
          chainId: hospitalId,
          seq: i + 1,
          userId,
          hospitalId,
          action,
          resource,
          resourceId,
          outcome: failed ? 'failure' : 'success',
          ipAddress: `10.${i % 250}.${(i >> 8) % 250}.${(i >> 16) % 250}`,
          userAgent: pick(AGENTS),
          sessionId: userId ? uuidv7At(ts / 1000 - 60_000) : null,
          metadata,
          timestampMicros: ts,
          retentionUntilMicros: plusYearsMicros(ts, 6),
          prevHash,
        };
        const hash = rowHash(row);
        prevHash = hash;
        yield auditCopyLine(row, hash);
        if (i % 20_000 === 0) auditBar.update(i);
      }
      auditBar.update(o.auditRows);
    }
    await copyAuditLines(client, auditLines());
    auditBar.stop();
    await client.query('SET LOCAL session_replication_role = origin');
    await client.query('COMMIT');
    for (const t of ['users', 'alerts', 'alert_events', 'audit_logs']) await client.query(`ANALYZE ${t}`);
    const report = {
      hospitalId,
      users: o.users,
      auditRows: o.auditRows,
      alerts: o.alerts,
      alertEvents: events.length,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
    if (o.progress) {
      console.log(`seeded hospital '${o.slug}' in database ${dbName} in ${report.seconds} s: ${report.users} users, ${report.auditRows} audit rows, ${report.alerts} alerts, ${report.alertEvents} alert events`);
      console.log(`sign in as admin@${o.slug}.test (every generated user has the password ${DEV_PASSWORD});`);
      const url = displayUrl(db.options.connectionString);
      console.log(`point the server at it:  DATABASE_URL=${url} npm run server`);
      console.log(`verify its audit chain:  DATABASE_URL=${url} npm run audit:verify -- --hospital ${o.slug}`);
    }
    return report;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    if ((err as { code?: string }).code === '42P01') throw new Error('this database has no schema yet: run `npm run migrate -- up` with the same DATABASE_URL first');
    throw err;
  } finally {
    await client.query('RESET ALL').catch(() => {});
    client.release();
  }
}
