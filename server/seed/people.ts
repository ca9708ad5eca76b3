import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { careAssignments, scheduleParticipants, schedules } from '../db/schema.js';
import type { EscalationTarget } from '../hospitals/settings.js';
import type { Actor } from '../permissions.js';

export const DEMO_SCHEDULE = 'Senior doctor on call';

/** Who has which rooms in the demo (ICU and ER); the first of each department is its charge nurse. */
const demoAssignments: Record<string, { local: string; rooms: string[]; charge?: boolean }[]> = {
  ICU: [
    { local: 'nurse.icu', rooms: ['301', '302', '303', '304', '305', '306', '310', '311', '312'], charge: true },
    { local: 'doctor.icu', rooms: ['307', '308', '309'] },
  ],
  ER: [
    { local: 'nurse.er', rooms: ['E1', 'E2', 'E3', 'E4', 'E5', 'E6'], charge: true },
    { local: 'doctor.er', rooms: ['E7', 'E8', 'E9', 'E10', 'E11', 'E12'] },
  ],
};

/**
 * The chain the demo shows for critical and high alerts: the nurse assigned to the room and the
 * charge nurse first, then whoever the senior-doctor schedule has on call, then the head doctors
 * (every further level falls back to them).
 */
export const demoChain = (scheduleId: string): EscalationTarget[][] => [[{ kind: 'assigned' }, { kind: 'charge' }], [{ kind: 'schedule', scheduleId }], [{ kind: 'role', role: 'head_doctor' }]];

/**
 * The people issue's demo data, idempotent: a daily 08:00 rotation of the senior doctors (head,
 * ICU doctor, ER doctor), the ICU and ER shift assignments for the next 12 hours (renewed when a
 * re-run finds them expired), and — with `chain` — the escalation chain above in the settings.
 * Tests seed without the chain, so alerts there page nobody unless a test configures targets.
 */
export async function seedPeopleDemo(tx: Tx, hospitalId: string, dept: Record<string, string>, actor: Record<string, Actor>, chain: boolean): Promise<void> {
  const startsAt = new Date();
  startsAt.setUTCHours(8, 0, 0, 0);
  startsAt.setUTCDate(startsAt.getUTCDate() - 7);
  await tx.insert(schedules).values({ hospitalId, name: DEMO_SCHEDULE, startsAt, shiftHours: 24 }).onConflictDoNothing();
  const [schedule] = await tx.select({ id: schedules.id }).from(schedules).where(and(eq(schedules.hospitalId, hospitalId), eq(schedules.name, DEMO_SCHEDULE)));
  const scheduleId = (schedule as { id: string }).id;
  const rota = ['head', 'doctor.icu', 'doctor.er'];
  await tx
    .insert(scheduleParticipants)
    .values(rota.map((local, position) => ({ scheduleId, hospitalId, position, userId: (actor[local] as Actor).id })))
    .onConflictDoNothing();

  for (const [code, entries] of Object.entries(demoAssignments)) {
    const departmentId = dept[code] as string;
    const current = await tx
      .select({ id: careAssignments.id })
      .from(careAssignments)
      .where(and(eq(careAssignments.departmentId, departmentId), isNull(careAssignments.replacedAt), sql`${careAssignments.until} > now()`));
    if (current.length) continue;
    await tx.update(careAssignments).set({ replacedAt: sql`now()` }).where(and(eq(careAssignments.departmentId, departmentId), isNull(careAssignments.replacedAt)));
    await tx.insert(careAssignments).values(
      entries.map((e) => ({
        hospitalId,
        departmentId,
        userId: (actor[e.local] as Actor).id,
        rooms: e.rooms,
        isCharge: e.charge ?? false,
        until: sql`now() + interval '12 hours'`,
        assignedBy: (actor.head as Actor).id,
      })),
    );
  }

  if (!chain) return;
  const targets = JSON.stringify(demoChain(scheduleId));
  // Only where no chain is configured yet: an admin's own chain survives a re-seed.
  for (const priority of ['critical', 'high']) {
    await tx.execute(sql`
      UPDATE hospitals SET settings = jsonb_set(settings, ${`{escalation,${priority},targets}`}::text[], ${targets}::jsonb, true)
      WHERE id = ${hospitalId} AND settings->'escalation' ? ${priority} AND NOT (settings->'escalation'->${priority} ? 'targets')`);
  }
}
