import { beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// Issue 15 point 12: the console's "Not delivered to any screen" is about the alert's department's
// screens. A head doctor's hospital-wide board that received a Cardiology alert is a screen, but not
// a Cardiology screen: the summary says both numbers so the console can tell the truth.
let env: TestEnv;
let server: TestServer;
let t: Tenants;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
});

describe('alerts.receiptSummary per department', () => {
  it("counts the alert's department's screens apart from hospital-wide ones", async () => {
    const operator = clientFor(server, await t.token('general', 'operator'));
    const head = clientFor(server, await t.token('general', 'head'));
    const nurse = clientFor(server, await t.token('general', 'nurse.icu'));
    const alert = await operator.alerts.create.mutate({ title: 'Chest pain', priority: 'high', alertType: 'medical', departmentId: t.hospital.general.departments.ICU });
    const summary = async () => (await operator.alerts.receiptSummary.query({ alertIds: [alert.id] }))[0];

    expect(await summary()).toMatchObject({ deliveredScreens: 0, departmentScreens: 0 });
    await head.alerts.reportReceipts.mutate({ receipts: [{ alertId: alert.id, kind: 'seen' }] });
    expect(await summary()).toMatchObject({ deliveredScreens: 1, departmentScreens: 0, seenBy: ['Dr. Harper Head'] });
    await nurse.alerts.reportReceipts.mutate({ receipts: [{ alertId: alert.id, kind: 'delivered' }] });
    expect(await summary()).toMatchObject({ deliveredScreens: 2, departmentScreens: 1 });
  });
});
