import { describe, expect, it } from 'vitest';
import { apiKeyScopes } from '../../../../server/integrations/schemas.js';
import { deliverySchema, webhookEventTypes } from '../../../../server/integrations/webhook-schemas.js';
import { deliveryStatusLabel, scopeLabel, webhookEvents } from './labels.js';

// A new alert event type, scope or delivery state on the server must get its words here, not show as 'alert.foo'.
describe('integrations labels', () => {
  it('every webhook event, scope and delivery status has words', () => {
    expect(webhookEvents.map((e) => e.value)).toEqual(webhookEventTypes);
    for (const e of webhookEvents) expect(e.label, e.value).not.toMatch(/^alert\./);
    expect(new Set(webhookEvents.map((e) => e.label)).size).toBe(webhookEvents.length);
    for (const s of apiKeyScopes) expect(scopeLabel[s], s).toBeTruthy();
    for (const s of deliverySchema.shape.status.options) expect(deliveryStatusLabel[s], s).toBeTruthy();
  });
});
