import { connect } from 'node:net';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hl7Sources } from '../../server/db/schema.js';
import { type Hl7Listener, startHl7Listener } from '../../server/integrations/hl7/listener.js';
import { CR, FS, VT } from '../../server/integrations/hl7/mllp.js';
import { handleHl7Message } from '../../server/integrations/hl7/service.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { hl7Peer, oruR40 } from '../support/hl7-peer.js';
import { seedTenants } from '../support/tenants.js';

// Random bytes and frames at the MLLP listener, and mutated ORU^R40s at the handler: nothing crashes,
// every frame answered is an ACK, and nothing is written for what is not accepted.
let env: TestEnv;
let listener: Hl7Listener;

beforeAll(async () => {
  env = await createTestEnv();
  const t = await seedTenants(env);
  await env.deps.db.insert(hl7Sources).values({ hospitalId: t.hospital.general.id, name: 'Fuzz gateway', sendingFacility: 'ICU_GW', departments: { ICU: t.hospital.general.departments.ICU } });
  listener = await startHl7Listener(env.deps, { port: 0, host: '127.0.0.1', idleTimeoutMs: 2_000, maxMessageBytes: 64 * 1024 });
});
afterAll(async () => listener?.close());

const alertCount = async () => Number((await env.deps.db.execute<{ n: string }>(sql`SELECT count(*) AS n FROM alerts`)).rows[0]?.n);

/** Writes the chunks one by one, half-closes, and returns everything the listener said before closing. */
function exchange(chunks: Uint8Array[]): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(listener.port, '127.0.0.1');
    let got = '';
    s.on('data', (c) => (got += c.toString('latin1')));
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
    s.on('connect', async () => {
      for (const c of chunks) if (!s.destroyed) await new Promise((r) => s.write(c, r));
      s.end();
    });
  });
}

// Bytes biased towards the framing characters and HL7 delimiters, so frames actually form.
const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(VT, FS, CR, 0x7c, 0x5e, 0x7e));
const chunk = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.array(byte, { maxLength: 300 }).map((a) => Uint8Array.from(a)),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(`\x0bMSH|^~\\&|${s}\x1c\r`)),
);

describe('HL7 listener fuzz', () => {
  it('random bytes and frames: never crashes, answers only with ACKs (AR/AE), writes nothing', async () => {
    const before = await alertCount();
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { minLength: 1, maxLength: 5 }), async (chunks) => {
        const answer = await exchange(chunks);
        for (const f of answer.split('\x1c\r').filter(Boolean)) {
          expect(f.startsWith('\x0bMSH|^~\\&|CLARION|')).toBe(true);
          expect(f).toMatch(/\rMSA\|A[ER]\|/);
        }
      }),
      { numRuns: 60 },
    );
    expect(await alertCount()).toBe(before);
    const peer = hl7Peer(listener.port);
    try {
      expect((await peer.send(oruR40())).code).toBe('AA');
    } finally {
      await peer.close();
    }
  });

  it('mutated ORU^R40s: the handler always answers an ACK, and writes only when it says AA', async () => {
    const noise = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', '|', '^', '~', '\\', '&', '\r', 'ORU^R40', 'MSH', 'inactive', '\\F\\'));
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), noise, async (segIndex, fieldIndex, replacement) => {
        const lines = oruR40().split('\r');
        const seg = segIndex % lines.length;
        const fields = (lines[seg] as string).split('|');
        fields[fieldIndex % fields.length] = replacement;
        lines[seg] = fields.join('|');
        const before = await alertCount();
        const ack = await handleHl7Message(env.deps, lines.join('\r'), '127.0.0.1');
        const code = /\rMSA\|(A[AER])\|/.exec(ack)?.[1];
        expect(code).toBeDefined();
        if (code !== 'AA') expect(await alertCount()).toBe(before);
      }),
      { numRuns: 150 },
    );
  });
});
