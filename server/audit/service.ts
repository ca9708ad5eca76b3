import { alertResponseFigures } from '../alerts/report.js';
import { type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { executeNamed } from '../db/prepared.js';
import { badRequest } from '../errors.js';
import type { Role } from '../permissions.js';
import { FAILED_LOGIN_ACTIONS, LOCKOUT_ACTIONS, REPORT_GENERATED_ACTION } from './actions.js';
import { type AnchorKeys, checkAnchors } from './anchor.js';
import { type AuditContext, logAuditEvent } from './log.js';
import type { AuditLogRow, ChainVerification, ComplianceReport, ComplianceReportInput, GetLogsInput } from './schemas.js';
import { verifyChainWithin } from './verify.js';

/** Postgres renders a timestamp with all six fractional digits; a JS Date would keep only three. */
const TS_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const tsText = (col: string) => sql.raw(`to_char(${col} AT TIME ZONE 'UTC', ${TS_TEXT})`);
const CURSOR_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The cursor is opaque to clients: base64url of "<timestamp text>|<id>" of the last row served. */
export function encodeCursor(ts: string, id: string): string {
  return Buffer.from(`${ts}|${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { ts: string; id: string } {
  const invalid = () => badRequest('Invalid cursor', { cursor: ['Invalid cursor: pass nextCursor from the previous page'] });
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(cursor)) throw invalid();
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const sep = text.indexOf('|');
  const ts = text.slice(0, sep);
  const id = text.slice(sep + 1);
  if (sep < 0 || !CURSOR_TS.test(ts) || Number.isNaN(Date.parse(ts)) || id.length < 1 || id.length > 100) throw invalid();
  return { ts, id };
}

interface LogDbRow extends Record<string, unknown> {
  id: string;
  seq: string;
  user_id: string | null;
  user_name: string | null;
  action: string;
  resource: string | null;
  resource_id: string | null;
  outcome: 'success' | 'failure';
  ip_address: string | null;
  user_agent: string | null;
  session_id: string | null;
  metadata: unknown;
  ts: string;
  hash: string;
}

/** The page query (exported so a test can EXPLAIN it: it must walk the index, not sort). */
export function logsPageQuery(hospitalId: string, input: GetLogsInput): SQL {
  const conds: SQL[] = [sql`a.hospital_id = ${hospitalId}`];
  if (input.userId) conds.push(sql`a.user_id = ${input.userId}`);
  if (input.action) conds.push(sql`a.action = ${input.action}`);
  if (input.resource) conds.push(sql`a.resource = ${input.resource}`);
  if (input.outcome) conds.push(sql`a.outcome = ${input.outcome}`);
  if (input.from) conds.push(sql`a.timestamp >= ${input.from}::timestamptz`);
  if (input.to) conds.push(sql`a.timestamp < ${input.to}::timestamptz`);
  if (input.cursor) {
    const c = decodeCursor(input.cursor);
    conds.push(sql`(a.timestamp, a.id) < (${c.ts}::timestamptz, ${c.id})`);
  }
  return sql`
    SELECT a.id, a.seq::text AS seq, a.user_id, u.name AS user_name, a.action, a.resource, a.resource_id,
           a.outcome::text AS outcome, a.ip_address, a.user_agent, a.session_id, a.metadata,
           ${tsText('a.timestamp')} AS ts, a.hash
    FROM audit_logs a
    LEFT JOIN users u ON u.id = a.user_id AND u.hospital_id = a.hospital_id
    WHERE ${sql.join(conds, sql` AND `)}
    ORDER BY a.timestamp DESC NULLS LAST, a.id DESC NULLS LAST
    LIMIT ${input.limit + 1}`;
}

/**
 * One page of the hospital's audit log, newest first. Keyset on (timestamp DESC, id DESC), which
 * audit_hospital_page_idx serves directly: every page costs the same, however deep. Never OFFSET.
 * The index is `DESC NULLS LAST` (drizzle's .desc()); a bare `DESC` means NULLS FIRST and does not
 * match it, and at 10M rows the planner then sorts the whole hospital (5 s instead of 1 ms).
 *
 * Reading the log is deliberately not itself audited: every page of a review would append a row to
 * the log being reviewed (a flood that buries real events); the compliance report, a deliberate
 * act that summarises the whole log, is audited instead.
 */
export async function getLogs(db: Tx, hospitalId: string, input: GetLogsInput): Promise<{ logs: AuditLogRow[]; nextCursor: string | null }> {
  // A named statement per filter shape: the page is the audit screen's hot path (server/db/prepared.ts).
  // Not when filtering by action, resource or outcome: a named statement soon runs a generic plan, which
  // cannot tell a rare value (index on action, then sort) from a common one (walk the page index and
  // filter) — the wrong guess walks millions of rows. Those shapes keep a custom plan per call.
  const query = logsPageQuery(hospitalId, input);
  const skewed = input.action !== undefined || input.resource !== undefined || input.outcome !== undefined;
  const rows = skewed ? (await db.execute<LogDbRow>(query)).rows : await executeNamed<LogDbRow>(db, 'audit_page', query);
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    logs: page.map((r) => ({
      id: r.id,
      seq: r.seq,
      userId: r.user_id,
      userName: r.user_name,
      action: r.action,
      resource: r.resource,
      resourceId: r.resource_id,
      outcome: r.outcome,
      ipAddress: r.ip_address,
      userAgent: r.user_agent,
      sessionId: r.session_id,
      metadata: r.metadata ?? null,
      timestamp: r.ts,
      hash: r.hash,
    })),
    nextCursor: rows.length > input.limit && last ? encodeCursor(last.ts, last.id) : null,
  };
}

export const INACTIVE_DAYS = 90;
const LIST_LIMIT = 100;
/** A request should not wait minutes on a chain of millions of rows; audit:verify has no budget. */
export const REPORT_VERIFY_TIMEOUT_MS = 20_000;

const toInt = (v: unknown) => Number(v ?? 0);
const inList = (values: readonly string[]) => sql.join(values.map((v) => sql`${v}`), sql`, `);

async function countByUser(db: Tx, hospitalId: string, period: ComplianceReportInput, where: SQL) {
  const { rows } = await db.execute<{ user_id: string | null; user_name: string | null; n: string }>(sql`
    SELECT a.user_id, u.name AS user_name, count(*) AS n
    FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id AND u.hospital_id = a.hospital_id
    WHERE a.hospital_id = ${hospitalId} AND a.timestamp >= ${period.from}::timestamptz AND a.timestamp < ${period.to}::timestamptz AND ${where}
    GROUP BY a.user_id, u.name ORDER BY n DESC, a.user_id LIMIT ${LIST_LIMIT}`);
  const { rows: total } = await db.execute<{ n: string }>(sql`
    SELECT count(*) AS n FROM audit_logs a
    WHERE a.hospital_id = ${hospitalId} AND a.timestamp >= ${period.from}::timestamptz AND a.timestamp < ${period.to}::timestamptz AND ${where}`);
  return { count: toInt(total[0]?.n), byUser: rows.map((r) => ({ userId: r.user_id, userName: r.user_name, count: toInt(r.n) })) };
}

/**
 * A verified chain is also checked against its anchors: hash links alone cannot show that the newest
 * rows were deleted, or a chain recomputed by someone who can write the table.
 */
async function withAnchors(db: Tx, chain: ChainVerification, keys: AnchorKeys | undefined): Promise<ComplianceReport['chain']> {
  if (!keys || chain.verified === null) return { ...chain, anchorsChecked: 0 };
  const anchored = await checkAnchors(db, keys, chain.chainId);
  const [problem] = anchored.problems;
  return { ...chain, verified: chain.verified && !problem, problem: chain.problem ?? problem ?? null, anchorsChecked: anchored.anchors };
}

/** The compliance report of the caller's hospital for [from, to). Audited as audit.report_generated. */
export async function getComplianceReport(
  db: Tx,
  audit: AuditContext & { hospitalId: string },
  period: ComplianceReportInput,
  anchorKeys?: AnchorKeys,
): Promise<ComplianceReport> {
  const h = audit.hospitalId;
  // The chain check is the slow part (it hashes every row): run it beside the aggregates, on its own
  // connection, so the report takes max(check, aggregates) rather than their sum.
  const chainCheck = verifyChainWithin(db, h, REPORT_VERIFY_TIMEOUT_MS);
  chainCheck.catch(() => {}); // awaited below; this only stops an early throw from going unhandled
  const inPeriod = sql`hospital_id = ${h} AND timestamp >= ${period.from}::timestamptz AND timestamp < ${period.to}::timestamptz`;
  const { rows: activity } = await db.execute<{ action: string; outcome: 'success' | 'failure'; n: string }>(
    sql`SELECT action, outcome::text AS outcome, count(*) AS n FROM audit_logs WHERE ${inPeriod} GROUP BY action, outcome ORDER BY action`,
  );
  const byAction = new Map<string, { action: string; success: number; failure: number }>();
  const byOutcome = { success: 0, failure: 0 };
  for (const r of activity) {
    const entry = byAction.get(r.action) ?? { action: r.action, success: 0, failure: 0 };
    entry[r.outcome] += toInt(r.n);
    byOutcome[r.outcome] += toInt(r.n);
    byAction.set(r.action, entry);
  }

  const failedLogins = await countByUser(db, h, period, sql`a.action IN (${inList(FAILED_LOGIN_ACTIONS)}) AND a.outcome = 'failure'`);
  const lockouts = await countByUser(db, h, period, sql`a.action IN (${inList(LOCKOUT_ACTIONS)})`);

  const { rows: twoFa } = await db.execute<{ role: Role; n: string }>(sql`
    SELECT role::text AS role, count(*) AS n FROM users WHERE hospital_id = ${h} AND is_active AND NOT two_factor_enabled
    GROUP BY role ORDER BY role`);
  const { rows: userCounts } = await db.execute<{ active: string; stale: string; deactivated: string }>(sql`
    SELECT count(*) FILTER (WHERE is_active) AS active,
           count(*) FILTER (WHERE is_active AND coalesce(last_login_at, created_at) < now() - make_interval(days => ${INACTIVE_DAYS})) AS stale,
           count(*) FILTER (WHERE NOT is_active) AS deactivated
    FROM users WHERE hospital_id = ${h}`);
  const { rows: stale } = await db.execute<{ id: string; name: string; email: string; role: Role; last_login_at: string | null }>(sql`
    SELECT id, name, email, role::text AS role, ${tsText('last_login_at')} AS last_login_at FROM users
    WHERE hospital_id = ${h} AND is_active AND coalesce(last_login_at, created_at) < now() - make_interval(days => ${INACTIVE_DAYS})
    ORDER BY coalesce(last_login_at, created_at), id LIMIT ${LIST_LIMIT}`);
  const { rows: deactivated } = await db.execute<{ id: string; name: string; email: string; role: Role }>(sql`
    SELECT id, name, email, role::text AS role FROM users WHERE hospital_id = ${h} AND NOT is_active ORDER BY updated_at DESC, id LIMIT ${LIST_LIMIT}`);

  const chain = await withAnchors(db, await chainCheck, anchorKeys);
  const alertResponse = await alertResponseFigures(db, h, period);
  const counts = userCounts[0];

  const report: ComplianceReport = {
    period: { from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString() },
    generatedAt: new Date().toISOString(),
    activity: {
      total: byOutcome.success + byOutcome.failure,
      byAction: [...byAction.values()],
      byOutcome: [
        { key: 'success', count: byOutcome.success },
        { key: 'failure', count: byOutcome.failure },
      ],
    },
    authentication: { failedLogins, lockouts },
    twoFactor: { withoutTwoFactorByRole: twoFa.map((r) => ({ key: r.role, count: toInt(r.n) })), activeUsers: toInt(counts?.active) },
    inactiveAccounts: {
      inactiveDays: INACTIVE_DAYS,
      noRecentLogin: { count: toInt(counts?.stale), users: stale.map((u) => ({ id: u.id, name: u.name, email: u.email, role: u.role, lastLoginAt: u.last_login_at })) },
      deactivated: { count: toInt(counts?.deactivated), users: deactivated.map((u) => ({ id: u.id, name: u.name, email: u.email, role: u.role })) },
    },
    chain,
    alertResponse,
  };
  await logAuditEvent(db, audit, {
    action: REPORT_GENERATED_ACTION,
    resource: 'audit',
    metadata: { from: report.period.from, to: report.period.to, chainVerified: chain.verified, rows: report.activity.total },
  });
  return report;
}
