import { z } from 'zod';
import { zEmail, zId } from '../common/schemas.js';
import { notificationChannels, priorities, roles } from '../db/enums.js';

/**
 * Zod schemas of the notifications API (DESIGN.md "Reaching the phone"), shared with the web's
 * "How Clarion reaches me" page and the API docs. Addresses are personal data: only their owner and
 * admins read them, and the audit log keeps them masked.
 */

export const channelSchema = z.enum(notificationChannels);
export type Channel = z.infer<typeof channelSchema>;

/** A phone number in E.164 ("+15550100123"): what SMS and voice providers take. */
export const e164Schema = z.string().trim().regex(/^\+[1-9]\d{6,14}$/, 'Enter the number with its country code, e.g. +15550100123');

/** The longest any step waits: an hour after the page. */
export const MAX_STEP_DELAY_SECONDS = 3_600;

export const ruleStepSchema = z.object({ channel: channelSchema, delaySeconds: z.number().int('Whole seconds').min(0, 'At least 0').max(MAX_STEP_DELAY_SECONDS, 'At most 3600 (an hour)') });
export type RuleStep = z.infer<typeof ruleStepSchema>;

/** One priority's steps, in the order they are tried; each waits at least as long as the one before. */
export const ruleStepsSchema = z
  .array(ruleStepSchema)
  .max(10, 'At most 10 steps')
  .superRefine((steps, ctx) => {
    steps.forEach((s, i) => {
      if (i > 0 && s.delaySeconds < (steps[i - 1] as RuleStep).delaySeconds)
        ctx.addIssue({ code: 'custom', path: [i, 'delaySeconds'], message: 'Each step waits at least as long as the one before' });
    });
  });

export const rulesSchema = z.object(Object.fromEntries(priorities.map((p) => [p, ruleStepsSchema])) as Record<(typeof priorities)[number], typeof ruleStepsSchema>);
export type Rules = z.infer<typeof rulesSchema>;

export const setRulesInput = z.object({ rules: rulesSchema });

/** Clarion's own steps for anyone whose hospital set no defaults for their role (shared with the settings editor). */
export function builtInRules(): Rules {
  return {
    critical: [
      { channel: 'push', delaySeconds: 0 },
      { channel: 'sms', delaySeconds: 30 },
      { channel: 'voice', delaySeconds: 60 },
    ],
    high: [
      { channel: 'push', delaySeconds: 0 },
      { channel: 'sms', delaySeconds: 60 },
    ],
    medium: [{ channel: 'push', delaySeconds: 0 }],
    low: [{ channel: 'push', delaySeconds: 0 }],
  };
}

export const contactSchema = z.object({
  id: z.string(),
  channel: channelSchema,
  address: z.string(),
  verified: z.boolean(),
  verifiedAt: z.string().nullable(),
  /** An unverified contact's code: when it runs out (null: none sent or verified). */
  codeExpiresAt: z.string().nullable(),
  createdAt: z.string(),
  /** Only in addContact's answer for a webhook: the secret its X-Clarion-Signature is made with. */
  signingSecret: z.string().optional(),
});
export type Contact = z.infer<typeof contactSchema>;

/** What getRules answers: my rules (or the defaults when I have set none), my contacts, and where I cannot be reached. */
export const rulesOutput = z.object({
  rules: rulesSchema,
  /** false: these are the defaults, not rules I saved. */
  custom: z.boolean(),
  contacts: z.array(contactSchema),
  /** Priorities for which no step has a verified contact: a page reaches my screens only. */
  unreachable: z.array(z.enum(priorities)),
});
export type RulesOutput = z.infer<typeof rulesOutput>;

const webhookUrl = z.url({ protocol: /^https?$/, error: 'Enter an http(s):// address' }).max(2048);

/** A phone, an address or a URL to verify (push subscriptions come from the browser: registerPush). */
export const addContactInput = z.discriminatedUnion('channel', [
  z.object({ channel: z.literal('sms'), address: e164Schema }),
  z.object({ channel: z.literal('voice'), address: e164Schema }),
  z.object({ channel: z.literal('email'), address: zEmail }),
  z.object({ channel: z.literal('webhook'), address: webhookUrl }),
]);
export type AddContactInput = z.infer<typeof addContactInput>;

export const verifyContactInput = z.object({ contactId: zId, code: z.string().trim().regex(/^\d{6}$/, 'Enter the 6-digit code') });
export const contactIdInput = z.object({ contactId: zId });

/** A browser's PushSubscription.toJSON(). */
export const registerPushInput = z.object({
  subscription: z.object({
    endpoint: z.url({ protocol: /^https$/, error: 'A push endpoint is an https:// URL' }).max(2048),
    expirationTime: z.number().nullable().optional(),
    keys: z.object({ p256dh: z.string().min(20).max(200), auth: z.string().min(8).max(100) }),
  }),
});

/** How a person answered a page away from the board (the audit row's user agent says which). */
export const answerChannels = ['push', 'sms', 'voice', 'link'] as const;
export type AnswerChannel = (typeof answerChannels)[number];
export const answerActions = ['acknowledge', 'decline'] as const;
export type AnswerAction = (typeof answerActions)[number];

/** POST /r/<token>: the body a response page's form (urlencoded) or a service worker (JSON) sends. */
export const respondInput = z.object({
  action: z.enum(answerActions, { error: 'Choose Acknowledge or Decline' }),
  reason: z.string().trim().max(500, 'Keep the reason under 500 characters').optional(),
});
export type RespondInput = z.infer<typeof respondInput>;

/** An admin's list of people a page would reach on screens only, for some priority. */
export const unreachableUserSchema = z.object({
  userId: z.string(),
  name: z.string(),
  role: z.enum(roles),
  department: z.string().nullable(),
  unreachable: z.array(z.enum(priorities)).min(1),
  verifiedChannels: z.array(channelSchema),
  /** Active schedules the person is on: a page by rota would reach nobody's phone. */
  schedules: z.array(z.string()),
});
export type UnreachableUser = z.infer<typeof unreachableUserSchema>;
export const unreachableOutput = z.object({ users: z.array(unreachableUserSchema) });

export const testChannelInput = z.object({ channel: channelSchema });
export const testChannelOutput = z.object({
  sent: z.number().int(),
  failed: z.array(z.object({ contactId: z.string(), error: z.string() })),
});
export const pushConfigOutput = z.object({ publicKey: z.string().nullable() });
