import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWebTestEnv, launchBrowser, openScreen, RestartableServer, screenshot } from '../support/browser.js';
import type { TestEnv } from '../support/env.js';
import { seedTenants, type Tenants } from '../support/tenants.js';
import { setPolicy, startTestWorker } from '../support/worker.js';

// Issue 6: "with a short policy the head doctor's view shows the escalation". The escalation comes
// from the worker's timer alone: nobody presses Escalate.
let env: TestEnv;
let t: Tenants;
let server: RestartableServer;
let browser: Browser;
let operator: Page;
let head: Page;

const live = (page: Page) => page.getByRole('status', { name: 'Connection: Live' }).waitFor({ timeout: 10_000 });
const tile = (page: Page, title: string) => page.getByRole('article', { name: new RegExp(title) });

beforeAll(async () => {
  env = await createWebTestEnv();
  t = await seedTenants(env);
  // Critical: level 0 → 1 after 2 s, then a long wait (the test looks at level 1 only).
  await setPolicy(env, t.hospital.general.id, 'critical', [2, 3_600]);
  server = new RestartableServer(env);
  await server.start();
  await startTestWorker(env);
  browser = await launchBrowser();
  operator = (await openScreen(browser, server.url, { token: await t.token('general', 'operator') })).page;
  head = (await openScreen(browser, server.url, { token: await t.token('general', 'head'), path: '/#/escalations' })).page;
  await Promise.all([live(operator), live(head)]);
});

describe('timed escalation in the browser', () => {
  it("a critical alert escalates by itself and appears in the head doctor's Escalations view at level 1", async () => {
    await head.getByRole('heading', { name: 'Escalations' }).waitFor();
    await operator.getByLabel('Department').selectOption({ label: 'Cardiology (CARD)' });
    await operator.getByLabel('Room').fill('C-7');
    await operator.getByLabel('Type').selectOption('medical');
    await operator.getByLabel('Priority').selectOption('critical');
    await operator.getByLabel('Title').fill('Timed arrest drill');
    await operator.getByRole('button', { name: 'Raise alert' }).click();
    // No ward board is open for Cardiology in this file: the console warns first.
    await operator.getByRole('alert').filter({ hasText: 'No screen is online in Cardiology' }).waitFor();
    const raisedAt = Date.now();
    await operator.getByRole('button', { name: 'Raise anyway' }).click();
    await operator.getByRole('status').filter({ hasText: 'Raised: Timed arrest drill' }).waitFor();

    // Level 0 is not an escalation: not on the view yet.
    expect(await tile(head, 'Timed arrest drill').count()).toBe(0);
    const card = tile(head, 'Timed arrest drill');
    await card.getByText('Escalation level 1').waitFor({ timeout: 15_000 });
    const shownAfter = Date.now() - raisedAt;
    expect(shownAfter).toBeGreaterThanOrEqual(1_500); // not before the policy's 2 s
    await screenshot(head, 'escalations-timed');

    // The event log says the timer did it: no actor, reason "timeout", and no manual escalation.
    const events = await env.deps.db.execute<{ actor_id: string | null; reason: string | null; level: number }>(
      sql`SELECT e.actor_id, e.detail->>'reason' AS reason, e.escalation_level AS level
          FROM alert_events e JOIN alerts a ON a.id = e.alert_id
          WHERE a.title = 'Timed arrest drill' AND e.type = 'escalated' ORDER BY e.id`,
    );
    expect(events.rows).toEqual([{ actor_id: null, reason: 'timeout', level: 1 }]);
  });
});
