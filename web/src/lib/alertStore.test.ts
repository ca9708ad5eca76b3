import { describe, expect, it } from 'vitest';
import { type Alert, type AlertEvent, AlertStore } from './alertStore.js';

const base: Alert = {
  id: '1',
  hospitalId: 'h',
  departmentId: 'd',
  departmentCode: 'ICU',
  departmentName: 'Intensive Care',
  title: 'Leads off',
  description: null,
  priority: 'high',
  alertType: 'equipment',
  roomNumber: '307',
  status: 'active',
  escalationLevel: 0,
  version: 1,
  repeatCount: 0,
  nextEscalationAt: null,
  ackDeadlineAt: null,
  createdBy: null,
  createdByName: null,
  acknowledgedBy: null,
  acknowledgedByName: null,
  acknowledgedAt: null,
  resolvedBy: null,
  resolvedByName: null,
  resolvedAt: null,
  cancelledBy: null,
  cancelledAt: null,
  createdAt: '2026-12-06T21:00:00.000Z',
  updatedAt: '2026-12-06T21:00:00.000Z',
  expiresAt: null,
  source: 'console',
  externalId: null,
  shelvedUntil: null,
  shelvedBy: null,
  shelvedByName: null,
  shelveReason: null,
  code: null,
  suppressionId: null,
  responders: [],
};
const event = (type: string, alert: Partial<Alert>, id = '10'): AlertEvent =>
  ({ id, type, alert: { ...base, ...alert }, actorId: null, occurredAt: '2026-12-06T21:01:00.000Z', detail: null }) as unknown as AlertEvent;

describe('AlertStore and the alarm-management events', () => {
  it('keeps a shelved alert (it is still open) and brings it back on unshelved', () => {
    const store = new AlertStore();
    store.reset([base]);
    store.applyEvent(event('shelved', { status: 'shelved', version: 2, shelvedUntil: '2026-12-06T21:30:00.000Z', shelveReason: 'repositioning' }));
    expect(store.get('1')?.status).toBe('shelved');
    store.applyEvent(event('unshelved', { status: 'active', version: 3 }));
    expect(store.get('1')?.status).toBe('active');
  });

  it('never shows a suppressed raise, and ignores an event type it does not know, applying only its alert', () => {
    const store = new AlertStore();
    expect(store.applyEvent(event('suppressed', { id: '2', status: 'suppressed' }))).toBe(false);
    expect(store.get('2')).toBeUndefined();
    store.reset([base]);
    expect(() => store.applyEvent(event('some_future_type', { version: 2, title: 'Leads off (changed)' }))).not.toThrow();
    expect(store.get('1')?.title).toBe('Leads off (changed)');
    expect(store.note('1')).toBeUndefined();
    // A status it does not know is not open: the alert leaves the board rather than sitting there wrongly.
    store.applyEvent(event('some_future_type', { version: 3, status: 'archived' as Alert['status'] }));
    expect(store.get('1')).toBeUndefined();
  });
});
