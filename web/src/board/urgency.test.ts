import { describe, expect, it } from 'vitest';
import type { Alert } from '../lib/alertStore.js';
import { boardOrder, overdue, summarise } from './urgency.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();
const alert = (id: string, over: Partial<Alert>): Alert =>
  ({ id, title: id, priority: 'medium', status: 'active', escalationLevel: 0, createdAt: ago(10), acknowledgedAt: null, nextEscalationAt: null, ...over }) as Alert;

describe('the board order', () => {
  it('puts everything waiting before anything acknowledged, then priority, overdue, level and age', () => {
    const order = boardOrder(
      [
        alert('ack-critical', { priority: 'critical', status: 'acknowledged', acknowledgedAt: ago(5) }),
        alert('waiting-low', { priority: 'low' }),
        alert('new-critical', { priority: 'critical', createdAt: ago(5) }),
        alert('old-critical', { priority: 'critical', createdAt: ago(40) }),
        alert('escalated-critical', { priority: 'critical', escalationLevel: 2, createdAt: ago(20) }),
        alert('waiting-high', { priority: 'high' }),
      ],
      NOW,
    ).map((a) => a.id);
    expect(order).toEqual(['escalated-critical', 'old-critical', 'new-critical', 'waiting-high', 'waiting-low', 'ack-critical']);
  });

  it('calls a waiting alert overdue when its escalation is due, it escalated, or it waited too long', () => {
    expect(overdue(alert('a', { nextEscalationAt: ago(1) }), NOW)).toBe('escalation due');
    expect(overdue(alert('b', { escalationLevel: 3 }), NOW)).toBe('escalated to level 3');
    expect(overdue(alert('c', { priority: 'critical', createdAt: ago(61) }), NOW)).toBe('waiting too long');
    expect(overdue(alert('d', { priority: 'critical', createdAt: ago(30) }), NOW)).toBeNull();
    expect(overdue(alert('e', { status: 'acknowledged', escalationLevel: 2 }), NOW)).toBeNull();
  });

  it('says what the "+N more" tile hides', () => {
    const hidden = [alert('a', { priority: 'critical' }), alert('b', { priority: 'critical' }), alert('c', { status: 'acknowledged' })];
    expect(summarise(hidden)).toBe('2 CRITICAL waiting · 1 acknowledged');
  });
});
