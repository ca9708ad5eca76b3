/**
 * A child process hosting a share of the subscribers (so the harness's own event loop does not
 * distort delivery latency). It records the receive time of every delivery against the send time
 * carried in the alert title, and afterwards counts expected, received, duplicate and lost deliveries.
 */
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';
import type { AppRouter } from '../../server/router.js';
import { type ChildResult, type FromChild, type Phase, parseTitle, type SubSpec, type ToChild } from './protocol.js';
import { Histogram, nowMs } from './stats.js';

const send = (msg: FromChild) => process.send?.(msg);

interface Sub {
  spec: SubSpec;
  counts: Uint8Array;
  close(): void;
}

const latency: Record<Phase, Histogram> = { s: new Histogram(), b: new Histogram(), f: new Histogram() };
const timeline = new Map<number, Histogram>();
/** Steady phase, from the server's alert.createdAt (transaction start) to receipt: excludes the client's request. */
const fromCreatedAt = new Histogram();
const firstReceive: Record<Phase, number> = { s: 0, b: 0, f: 0 };
const lastReceive: Record<Phase, number> = { s: 0, b: 0, f: 0 };
let deliveries = 0;
let otherEvents = 0;
let errors = 0;
let reconnects = 0;
const errorSamples: string[] = [];
const subs: Sub[] = [];

function noteError(message: string): void {
  errors++;
  if (errorSamples.length < 10) errorSamples.push(message.slice(0, 200));
}

/** One delivered event: `type` and `title` of its alert. */
function onDelivery(sub: Sub, type: string, title: string, createdAt?: string): void {
  const at = nowMs();
  if (type !== 'created') {
    otherEvents++;
    return;
  }
  const parsed = parseTitle(title);
  if (!parsed) return;
  deliveries++;
  if (parsed.seq >= sub.counts.length) {
    const grown = new Uint8Array(Math.max(parsed.seq + 1, sub.counts.length * 2));
    grown.set(sub.counts);
    sub.counts = grown;
  }
  if (sub.counts[parsed.seq] !== 255) sub.counts[parsed.seq] = (sub.counts[parsed.seq] as number) + 1;
  const ms = at - parsed.sentAt;
  latency[parsed.phase].record(ms);
  if (!firstReceive[parsed.phase]) firstReceive[parsed.phase] = at;
  lastReceive[parsed.phase] = at;
  if (parsed.phase === 's') {
    if (createdAt) fromCreatedAt.record(at - Date.parse(createdAt));
    const second = Math.floor(parsed.sentAt / 1000);
    let h = timeline.get(second);
    if (!h) {
      h = new Histogram();
      timeline.set(second, h);
    }
    h.record(ms);
  }
}

type EventLike = { type: string; alert: { title: string; createdAt?: string } };

function openClarion(url: string, spec: SubSpec, lastEventId: string | undefined): Promise<Sub> {
  return new Promise((resolve, reject) => {
    const wsClient = createWSClient({
      url: `${url.replace(/^http/, 'ws')}/trpc`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: () => ({ token: spec.token }),
      retryDelayMs: () => 500,
      onClose: () => {
        reconnects++;
      },
    });
    const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
    let started = false;
    const sub: Sub = { spec, counts: new Uint8Array(64), close: () => undefined };
    const subscription = client.alerts.onEvent.subscribe(lastEventId ? { lastEventId } : undefined, {
      onStarted: () => {
        if (started) return;
        started = true;
        resolve(sub);
      },
      onData: (d) => {
        const e = (d as unknown as { data: EventLike }).data;
        onDelivery(sub, e.type, e.alert.title, e.alert.createdAt);
      },
      onError: (err) => {
        noteError(`onEvent: ${err.message}`);
        if (!started) reject(err);
      },
    });
    sub.close = () => {
      subscription.unsubscribe();
      wsClient.close();
    };
  });
}

function openWs(url: string, spec: SubSpec): Promise<Sub> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/?dept=${spec.dept ?? 'all'}`);
    const sub: Sub = { spec, counts: new Uint8Array(64), close: () => ws.terminate() };
    ws.on('open', () => resolve(sub));
    ws.on('error', (err) => {
      noteError(`ws: ${err.message}`);
      reject(err);
    });
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { result: { data: EventLike } };
      onDelivery(sub, msg.result.data.type, msg.result.data.alert.title);
    });
  });
}

function openSocketIo(url: string, spec: SubSpec): Promise<Sub> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ['websocket'], forceNew: true, reconnectionDelay: 500, query: { dept: String(spec.dept ?? 'all') } });
    const sub: Sub = { spec, counts: new Uint8Array(64), close: () => socket.disconnect() };
    let opened = false;
    socket.on('connect', () => {
      if (opened) reconnects++;
      opened = true;
      // The server joins the rooms on connection; it acks with 'joined' so no early event is missed.
    });
    socket.on('joined', () => resolve(sub));
    socket.on('connect_error', (err) => {
      noteError(`socket.io: ${err.message}`);
      if (!opened) reject(err);
    });
    socket.on('event', (msg: { result: { data: EventLike } }) => onDelivery(sub, msg.result.data.type, msg.result.data.alert.title));
  });
}

async function init(msg: Extract<ToChild, { type: 'init' }>): Promise<void> {
  let connected = 0;
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < msg.subs.length) {
      const i = next++;
      const spec = msg.subs[i] as SubSpec;
      const url = msg.urls[i % msg.urls.length] as string;
      try {
        const open = msg.target === 'clarion' ? openClarion(url, spec, msg.lastEventId) : msg.target === 'ws' ? openWs(url, spec) : openSocketIo(url, spec);
        const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('subscribe timed out')), 30_000).unref());
        subs.push(await Promise.race([open, timeout]));
        connected++;
      } catch (err) {
        failed++;
        noteError(`connect: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: msg.connectConcurrency }, worker));
  send({ type: 'ready', connected, failed, errorSamples });
  setInterval(() => send({ type: 'progress', deliveries, errors }), 500).unref();
}

function collect(alerts: { seq: number; dept: number }[], failed: { seq: number; dept: number }[]): ChildResult {
  const raised = new Map(alerts.map((a) => [a.seq, a.dept]));
  const failedSeqs = new Set(failed.map((a) => a.seq));
  let afterRaiseError = 0;
  let expected = 0;
  let received = 0;
  let duplicates = 0;
  let unexpected = 0;
  for (const sub of subs) {
    for (const [seq, dept] of raised) {
      if (sub.spec.dept !== null && sub.spec.dept !== dept) continue;
      expected++;
      const n = sub.counts[seq] ?? 0;
      if (n > 0) received++;
      if (n > 1) duplicates += n - 1;
    }
    for (let seq = 0; seq < sub.counts.length; seq++) {
      if (!sub.counts[seq]) continue;
      if (failedSeqs.has(seq)) {
        afterRaiseError += sub.counts[seq] as number;
        continue;
      }
      const dept = raised.get(seq);
      if (dept === undefined || (sub.spec.dept !== null && sub.spec.dept !== dept)) unexpected += sub.counts[seq] as number;
    }
  }
  const sparseTimeline: ChildResult['timeline'] = {};
  for (const [second, h] of timeline) sparseTimeline[second] = h.toSparse();
  return {
    subscribers: subs.length,
    received,
    expected,
    duplicates,
    lost: expected - received,
    unexpected,
    afterRaiseError,
    otherEvents,
    errors,
    reconnects,
    latency: { s: latency.s.toSparse(), b: latency.b.toSparse(), f: latency.f.toSparse() },
    timeline: sparseTimeline,
    fromCreatedAt: fromCreatedAt.toSparse(),
    firstReceive,
    lastReceive,
    errorSamples,
  };
}

process.on('message', (raw) => {
  const msg = raw as ToChild;
  if (msg.type === 'init') void init(msg);
  else if (msg.type === 'collect') send({ type: 'result', result: collect(msg.alerts, msg.failed) });
  else if (msg.type === 'close') {
    for (const s of subs) s.close();
    setTimeout(() => process.exit(0), 300).unref();
  }
});
process.on('disconnect', () => process.exit(0));
