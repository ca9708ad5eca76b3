import { beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { clientFor, startTestServer, type TestServer } from '../support/server.js';
import { seedTenants, type Tenants } from '../support/tenants.js';

// alerts.list as the console's alert history uses it: search (title, room, description) and both orders, paged.
let env: TestEnv;
let server: TestServer;
let t: Tenants;
let operator: ReturnType<typeof clientFor>;
const ids: string[] = [];
let since = '';

beforeAll(async () => {
  env = await createTestEnv();
  server = await startTestServer(env);
  t = await seedTenants(env);
  operator = clientFor(server, await t.token('general', 'operator'));
  const dept = t.hospital.general.departments.ICU;
  // The seed has alerts of its own: these tests look only at the ones raised here.
  const rows = [
    { title: 'Qx fall in corridor', roomNumber: 'B-12' },
    { title: 'Qx pump alarm', roomNumber: '100%' },
    { title: 'Qx visitor unwell', description: 'Fainted near the lifts' },
    { title: 'Qx fall from bed', roomNumber: '7' },
  ];
  for (const r of rows) {
    const a = await operator.alerts.create.mutate({ priority: 'low', alertType: 'medical', departmentId: dept, ...r });
    ids.push(a.id);
    since ||= a.createdAt;
  }
});

describe('alerts.list: search and order', () => {
  it('searches title, room and description, case-insensitively, with % taken literally', async () => {
    const titles = async (search: string) => (await operator.alerts.list.query({ search, from: since })).alerts.map((a) => a.title).sort();
    expect(await titles('FALL')).toEqual(['Qx fall from bed', 'Qx fall in corridor']);
    expect(await titles('b-12')).toEqual(['Qx fall in corridor']);
    expect(await titles('lifts')).toEqual(['Qx visitor unwell']);
    expect(await titles('0%')).toEqual(['Qx pump alarm']);
    expect(await titles('%')).toEqual(['Qx pump alarm']);
    expect(await titles('nothing like this')).toEqual([]);
  });

  it('pages newest first by default and oldest first on request, each page continuing the last', async () => {
    const page = async (order: 'newest' | 'oldest' | undefined) => {
      const first = await operator.alerts.list.query({ limit: 3, order, from: since });
      const second = await operator.alerts.list.query({ limit: 3, order, from: since, cursor: first.nextCursor! });
      expect(second.nextCursor).toBeNull();
      return [...first.alerts, ...second.alerts].map((a) => a.id);
    };
    expect(await page(undefined)).toEqual([...ids].reverse());
    expect(await page('newest')).toEqual([...ids].reverse());
    expect(await page('oldest')).toEqual(ids);
  });
});
