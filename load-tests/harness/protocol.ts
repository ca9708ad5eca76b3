/** Messages between the harness and its subscriber processes (IPC), and the alert title format. */
import type { SparseHistogram } from './stats.js';

export type Target = 'clarion' | 'ws' | 'socketio';
export type Phase = 's' | 'b' | 'f';

export interface SubSpec {
  /** Session token (Clarion only). */
  token?: string;
  /** Department index, or null for a whole-hospital subscriber. */
  dept: number | null;
}

export type ToChild =
  | { type: 'init'; target: Target; urls: string[]; subs: SubSpec[]; lastEventId?: string; connectConcurrency: number }
  | { type: 'collect'; alerts: { seq: number; dept: number }[]; failed: { seq: number; dept: number }[] }
  | { type: 'close' };

export interface ChildResult {
  subscribers: number;
  /** Distinct (subscriber, alert) deliveries that were expected and arrived. */
  received: number;
  expected: number;
  duplicates: number;
  lost: number;
  /** Deliveries of alerts this subscriber should not see, or that were never raised. */
  unexpected: number;
  /** Deliveries of alerts whose raise request failed on the client (e.g. timed out) yet committed. */
  afterRaiseError: number;
  otherEvents: number;
  errors: number;
  reconnects: number;
  latency: Record<Phase, SparseHistogram>;
  /** Per send-second (epoch s) histograms of the steady phase, for the percentile-over-time plot. */
  timeline: Record<string, SparseHistogram>;
  fromCreatedAt: SparseHistogram;
  firstReceive: Record<Phase, number>;
  lastReceive: Record<Phase, number>;
  errorSamples: string[];
}

export type FromChild =
  | { type: 'ready'; connected: number; failed: number; errorSamples: string[] }
  | { type: 'progress'; deliveries: number; errors: number }
  | { type: 'result'; result: ChildResult };

/** `L <phase> <seq> <sendEpochMs>`: the client's send time travels in the alert itself. */
export const alertTitle = (phase: Phase, seq: number, sentAt: number) => `L ${phase} ${seq} ${sentAt.toFixed(3)}`;

export function parseTitle(title: string): { phase: Phase; seq: number; sentAt: number } | null {
  const parts = title.split(' ');
  if (parts.length !== 4 || parts[0] !== 'L') return null;
  return { phase: parts[1] as Phase, seq: Number(parts[2]), sentAt: Number(parts[3]) };
}
