/**
 * Mixed workload for k6 (>= 0.52 runs TypeScript directly):
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 -e FIXTURE=reports/k6-fixture.json load-tests/k6/mixed.ts
 * Ward screens hold a tRPC subscription over WebSocket (tRPC's WS protocol, spoken by hand), operators
 * raise alerts, nurses load their board and acknowledge, admins page users, audit logs and alert history.
 * Thresholds are the specification's (procedures p95 < 200 ms, simple queries p95 < 100 ms) and the
 * project's delivery target (create → delivered p99 < 250 ms).
 */
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import { loadFixture, mutation, pick, query, WS_URL } from './lib.ts';

const fixture = loadFixture();
const DURATION = __ENV.DURATION ?? '60s';
const SCREENS = Number(__ENV.SCREENS ?? 100);

const delivery = new Trend('alert_delivery_ms', true);
const delivered = new Counter('alert_events_delivered');
const wsErrors = new Counter('ws_errors');

export const options: Options = {
  scenarios: {
    ward_screens: { executor: 'constant-vus', vus: SCREENS, duration: DURATION, exec: 'wardScreen' },
    operators: { executor: 'constant-arrival-rate', rate: Number(__ENV.ALERT_RATE ?? 10), timeUnit: '1s', duration: DURATION, preAllocatedVUs: 10, exec: 'operator' },
    nurses: { executor: 'constant-vus', vus: Number(__ENV.NURSES ?? 30), duration: DURATION, exec: 'nurse' },
    admins: { executor: 'constant-vus', vus: Number(__ENV.ADMINS ?? 10), duration: DURATION, exec: 'admin' },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{kind:mutation}': ['p(95)<200'],
    'http_req_duration{kind:query}': ['p(95)<100'],
    'http_req_duration{name:users.getAll}': ['p(95)<200'],
    'http_req_duration{name:audit.getLogs}': ['p(95)<200'],
    alert_delivery_ms: ['p(99)<250'],
    ws_errors: ['count<1'],
    checks: ['rate>0.99'],
  },
};

/** One ward screen: connectionParams, then alerts.onEvent; answers the server's PING; measures delivery. */
export function wardScreen(): void {
  const screen = pick(fixture.screens, exec.vu.idInTest);
  const ws = new WebSocket(`${WS_URL}?connectionParams=1`);
  ws.onopen = () => {
    ws.send(JSON.stringify({ method: 'connectionParams', data: { token: screen.token } }));
    ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'alerts.onEvent', input: undefined } }));
  };
  ws.onmessage = (e) => {
    const raw = String(e?.data ?? '');
    if (raw === 'PING') return ws.send('PONG');
    const msg = JSON.parse(raw) as { result?: { type: string; data?: { type: string; alert: { title: string } } }; error?: { message: string } };
    if (msg.error) {
      wsErrors.add(1);
      return;
    }
    const ev = msg.result?.type === 'data' ? msg.result.data : undefined;
    if (!ev) return;
    delivered.add(1);
    // Titles raised by the operator scenario carry their send time: "k6 <epoch ms>".
    const [tag, sentAt] = ev.alert.title.split(' ');
    if (ev.type === 'created' && tag === 'k6') delivery.add(Date.now() - Number(sentAt));
  };
  ws.onerror = () => wsErrors.add(1);
  // Hold the screen open for the scenario, then reconnect (a new iteration).
  setTimeout(() => ws.close(), 55_000);
}

export function operator(): void {
  const i = exec.scenario.iterationInTest;
  const dept = pick(fixture.departments, i);
  const r = mutation<{ id: string }>(
    'alerts.create',
    { title: `k6 ${Date.now()}`, priority: 'medium', alertType: 'k6_load', departmentId: dept.id, roomNumber: `K${i}` },
    pick(fixture.operators, i),
  );
  check(r, { 'alert raised': (x) => x.ok });
}

export function nurse(): void {
  const dept = (exec.vu.idInTest % fixture.departments.length) as number;
  const token = pick(fixture.nurses[dept] ?? [], exec.vu.idInTest);
  const board = query<{ alerts: { id: string; status: string }[] }>('alerts.getActive', undefined, token);
  check(board, { 'board loaded': (x) => x.ok });
  const open = board.data?.alerts.filter((a) => a.status === 'active') ?? [];
  const target = open[Math.floor(Math.random() * open.length)];
  if (target && Math.random() < 0.3) {
    // Two nurses may race for the same alert: exactly one wins, the other gets CONFLICT (409).
    const ack = mutation('alerts.acknowledge', { alertId: target.id }, token, [200, 409]);
    check(ack, { 'acknowledged or lost the race': (x) => x.ok || x.code === 'CONFLICT' });
  }
  sleep(1 + Math.random());
}

export function admin(): void {
  const token = pick(fixture.admins, exec.vu.idInTest);
  const users = query('users.getAll', { page: 1 + (exec.vu.iterationInScenario % 5), limit: 20 }, token);
  check(users, { 'users paged': (x) => x.ok });
  let cursor: string | undefined;
  for (let page = 0; page < 3; page++) {
    const logs = query<{ nextCursor: string | null }>('audit.getLogs', { limit: 50, ...(cursor ? { cursor } : {}) }, token);
    check(logs, { 'audit paged': (x) => x.ok });
    cursor = logs.data?.nextCursor ?? undefined;
    if (!cursor) break;
  }
  const history = query('alerts.list', { limit: 25 }, token);
  check(history, { 'history paged': (x) => x.ok });
  sleep(1 + Math.random());
}
