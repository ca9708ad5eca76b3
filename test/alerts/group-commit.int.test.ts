import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectAlertById } from '../../server/alerts/queries.js';
import { createAlert } from '../../server/alerts/service.js';
import { verifyChain } from '../../server/audit/verify.js';
import { toTRPCError } from '../../server/errors.js';
import type { Actor } from '../../server/permissions.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { seedTenants, type Slug, type Tenants } from '../support/tenants.js';

// Group commit (DESIGN.md "The delivery engine"): raises that arrive while a batch is in flight go
// together as the next batch, one statement (clarion_create_alerts): one transaction, each raise
// failing alone, no caller answered before its batch committed.
let env: TestEnv;
let t: Tenants;
let inactiveDept: string;

beforeAll(async () => {
  env = await createTestEnv();
  t = await seedTenants(env);
  await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{dedupWindowSeconds}', '120'::jsonb) WHERE id = ${t.hospital.riverside.id}`);
  const { rows } = await env.deps.db.execute<{ id: string }>(
    sql`INSERT INTO departments (hospital_id, name, code, is_active) VALUES (${t.hospital.general.id}, 'Closed ward', 'OLD', false) RETURNING id`,
  );
  inactiveDept = rows[0]!.id;
});

const actor = (slug: Slug): Actor => t.user(slug, 'operator') as Actor;
const auditOf = (a: Actor) => ({ userId: a.id, hospitalId: a.hospitalId, ip: null, userAgent: 'group-commit-test', sessionId: null });
const raise = (slug: Slug, title: string, extra: { departmentId?: string; roomNumber?: string; by?: Actor; priority?: 'high' | 'critical' } = {}) => {
  const by = extra.by ?? actor(slug);
  return createAlert(env.deps, by, auditOf(by), {
    title,
    priority: extra.priority ?? 'high',
    alertType: 'medical',
    departmentId: extra.departmentId ?? t.hospital[slug].departments.ICU,
    roomNumber: extra.roomNumber,
  });
};

async function createdEvents(alertIds: string[]) {
  const { rows } = await env.deps.db.execute<{ alert_id: string; id: string; tx: string }>(
    sql`SELECT alert_id, id::text, xmin::text AS tx FROM alert_events WHERE alert_id IN ${alertIds} ORDER BY alert_events.id`,
  );
  return rows;
}

describe('group commit of raises', () => {
  it('60 concurrent raises: batched, all created but the two bad ones, which fail alone; answered only after commit; events in submission order', async () => {
    const ghost = { ...actor('general'), id: 'no-such-user' } as Actor;
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const raised =
          i === 17 ? raise('general', `Batch ${i}`, { departmentId: inactiveDept }) : i === 33 ? raise('general', `Batch ${i}`, { by: ghost }) : raise('general', `Batch ${i}`);
        // Answered means committed: another connection already sees the alert.
        return raised.then(
          async (a) => ({ i, id: a.id, visible: (await selectAlertById(env.deps.db, a.id)) !== undefined }),
          (err: unknown) => ({ i, error: toTRPCError(err) }),
        );
      }),
    );
    const failed = outcomes.filter((o) => 'error' in o);
    expect(failed.map((o) => [o.i, 'error' in o && o.error.code, 'error' in o && o.error.message])).toEqual([
      [17, 'NOT_FOUND', 'Department not found'],
      [33, 'BAD_REQUEST', 'A referenced record does not exist'],
    ]);
    const created = outcomes.filter((o) => 'id' in o) as { i: number; id: string; visible: boolean }[];
    expect(created).toHaveLength(58);
    expect(created.every((o) => o.visible)).toBe(true);
    expect(new Set(created.map((o) => o.id)).size).toBe(58);

    const events = await createdEvents(created.map((o) => o.id));
    const order = new Map(created.map((o) => [o.id, o.i]));
    // FIFO batches, each written in submission order: event ids follow the order of the calls.
    const submitted = events.map((e) => order.get(e.alert_id) as number);
    expect(submitted).toEqual([...submitted].sort((a, b) => a - b));
    // Fewer transactions than raises: the ones queued behind a batch in flight shared one.
    const transactions = new Set(events.map((e) => e.tx)).size;
    expect(transactions).toBeLessThan(30);
    expect(await verifyChain(env.deps.db, t.hospital.general.id)).toMatchObject({ verified: true });
  });

  it('the same emergency raised many times in one batch: the first creates, the rest repeat it, in order', async () => {
    const room = 'G1';
    // The first raise goes alone (the batcher was idle); the ten behind it queue into one batch.
    const [, ...same] = await Promise.all([
      raise('riverside', 'Warm-up', { roomNumber: 'G0' }),
      ...Array.from({ length: 10 }, (_, i) => raise('riverside', 'Fall in the corridor', { roomNumber: room, priority: i === 4 ? 'critical' : 'high' })),
    ]);
    expect(new Set(same.map((a) => a.id)).size).toBe(1);
    expect(same.map((a) => [a.deduplicated, a.repeatCount])).toEqual(Array.from({ length: 10 }, (_, i) => [i > 0, i]));
    expect(same.map((a) => a.priorityRaisedFrom)).toEqual(same.map((_, i) => (i === 4 ? 'high' : null)));
    expect(same.map((a) => a.priority)).toEqual(same.map((_, i) => (i < 4 ? 'high' : 'critical')));
    const id = same[0]!.id;
    const { rows } = await env.deps.db.execute<{ type: string; detail: Record<string, unknown> | null; repeat: number; tx: string }>(
      sql`SELECT type::text, detail, (alert->>'repeatCount')::int AS repeat, xmin::text AS tx FROM alert_events WHERE alert_id = ${id} ORDER BY alert_events.id`,
    );
    expect(rows.map((r) => r.type)).toEqual(['created', 'repeated', 'repeated', 'repeated', 'updated', 'repeated', 'repeated', 'repeated', 'repeated', 'repeated', 'repeated']);
    expect(rows.filter((r) => r.type === 'repeated').map((r) => r.detail)).toEqual(Array.from({ length: 9 }, (_, i) => ({ repeatCount: i + 1 })));
    // Each event carries the alert as it was at that raise.
    expect(rows.map((r) => r.repeat)).toEqual([0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9]);
    expect(new Set(rows.map((r) => r.tx)).size).toBe(1);
    expect(await selectAlertById(env.deps.db, id)).toMatchObject({ repeatCount: 9, priority: 'critical', version: 10 });
    expect(await verifyChain(env.deps.db, t.hospital.riverside.id)).toMatchObject({ verified: true });
  });

  it('a batch refused for settings changed behind the cache is sent again with the new settings', async () => {
    const hospitalId = t.hospital.general.id;
    await raise('general', 'Warm the cache');
    await env.deps.db.execute(sql`UPDATE hospitals SET settings = jsonb_set(settings, '{escalation,high,levelTimeoutsSeconds}', '[777]'::jsonb) WHERE id = ${hospitalId}`);
    const raised = await Promise.all(Array.from({ length: 12 }, (_, i) => raise('general', `New policy ${i}`)));
    for (const a of raised) expect(Date.parse(a.nextEscalationAt as string) - Date.parse(a.createdAt)).toBeGreaterThanOrEqual(776_999);
  });
});
