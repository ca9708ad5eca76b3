import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { type ChainRow, type JsonValue, rowHash } from '../audit/chain.js';
import canonicalize from 'canonicalize';
import type { IncidentAuditEntry, IncidentRecord } from './incident-schemas.js';

/**
 * Signing and offline checking of incident records (server/alerts/incident-record.ts builds them,
 * scripts/incident-verify.ts checks them). Nothing here touches the database.
 */

/** Canonical JSON per RFC 8785 (JCS), by the `canonicalize` package (RFC 8785's reference implementation). */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('canonical JSON cannot hold this value');
  return text;
}

export const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The signer's public half as a record names it: SPKI DER (base64) and its key id. */
export function publicKeyInfo(key: KeyObject): { publicKey: string; keyId: string } {
  const der = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'der', type: 'spki' });
  return { publicKey: der.toString('base64'), keyId: createHash('sha256').update(der).digest('hex').slice(0, 16) };
}

/** The bytes the signature covers: the whole record but the signature's own value. */
function signedBytes(record: Omit<IncidentRecord, 'signature'> & { signature: Omit<IncidentRecord['signature'], 'value'> & { value?: string } }): Buffer {
  const { value: _value, ...signing } = record.signature;
  return Buffer.from(canonicalJson({ ...record, signature: signing }), 'utf8');
}

/** Signs a record with INCIDENT_SIGNING_KEY; the answer's canonical JSON is the file handed out. */
export function signRecord(key: KeyObject, unsigned: Omit<IncidentRecord, 'signature'>): { record: IncidentRecord; json: string } {
  const { publicKey, keyId } = publicKeyInfo(key);
  const withKey = { ...unsigned, signature: { algorithm: 'Ed25519' as const, keyId, publicKey } };
  const value = sign(null, signedBytes(withKey), key).toString('base64');
  const record: IncidentRecord = { ...withKey, signature: { ...withKey.signature, value } };
  return { record, json: canonicalJson(record) };
}

/** A public key given by a verifier: SPKI DER or a raw 32-byte Ed25519 key, base64, or PEM. */
export function parsePublicKey(text: string): KeyObject {
  const t = text.trim();
  if (t.startsWith('-----BEGIN')) return createPublicKey(t);
  const der = Buffer.from(t, 'base64');
  const spki = der.length === 32 ? Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), der]) : der;
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 public key');
  return key;
}

/** Problems with the signature (empty: it verifies with the key the record names, and that key is the expected one). */
export function signatureProblems(record: IncidentRecord, expectedKey?: KeyObject): string[] {
  let key: KeyObject;
  try {
    key = parsePublicKey(record.signature.publicKey);
  } catch {
    return ['the record names a public key that is not an Ed25519 key'];
  }
  const problems: string[] = [];
  const info = publicKeyInfo(key);
  if (info.keyId !== record.signature.keyId) problems.push(`key id ${record.signature.keyId} is not the id of the public key in the record (${info.keyId})`);
  if (expectedKey) {
    const expected = publicKeyInfo(expectedKey);
    if (expected.publicKey !== info.publicKey) problems.push(`signed with key ${info.keyId}, not with the expected key ${expected.keyId}`);
  }
  const ok = verify(null, signedBytes(record), key, Buffer.from(record.signature.value, 'base64'));
  if (!ok) problems.push('the signature does not match the content: the record was changed after it was signed, or the signature was');
  return problems;
}

/** `2026-12-06T20:41:24.123456Z` → microseconds since the epoch. */
export function microsOf(iso: string): number {
  const ms = Date.parse(`${iso.slice(0, 23)}Z`);
  return ms * 1000 + Number(iso.slice(23, 26));
}

export function toChainRow(e: IncidentAuditEntry): ChainRow {
  return {
    id: e.id,
    chainId: e.chainId,
    seq: e.seq,
    userId: e.userId,
    hospitalId: e.hospitalId,
    action: e.action,
    resource: e.resource,
    resourceId: e.resourceId,
    outcome: e.outcome,
    ipAddress: e.ipAddress,
    userAgent: e.userAgent,
    sessionId: e.sessionId,
    metadata: e.metadata as JsonValue | null,
    timestampMicros: microsOf(e.timestamp),
    retentionUntilMicros: microsOf(e.retentionUntil),
    prevHash: e.prevHash,
  };
}

const label = (e: Pick<IncidentAuditEntry, 'seq' | 'action'>) => `audit seq ${e.seq} (${e.action})`;

/**
 * The chain, offline: each entry's hash recomputed from its content and previous hash (the hash
 * function of server/audit/chain.ts), consecutive entries linked, every event's audit reference
 * pointing at an entry of the record with that hash.
 */
export function auditProblems(record: IncidentRecord): string[] {
  const problems: string[] = [];
  const bySeq = new Map<string, IncidentAuditEntry>();
  for (const e of record.audit) {
    if (rowHash(toChainRow(e)) !== e.hash) problems.push(`${label(e)}: its hash does not match its content`);
    bySeq.set(`${e.chainId}|${e.seq}`, e);
  }
  for (const e of record.audit) {
    const prev = bySeq.get(`${e.chainId}|${e.seq - 1}`);
    if (prev && prev.hash !== e.prevHash) problems.push(`${label(e)}: does not link to seq ${prev.seq} before it`);
  }
  for (const ev of record.events) {
    if (!ev.audit) continue;
    const entry = bySeq.get(`${ev.audit.chainId}|${ev.audit.seq}`);
    if (!entry) problems.push(`event ${ev.id} (${ev.type}) names audit seq ${ev.audit.seq}, which is not in the record`);
    else if (entry.hash !== ev.audit.hash) problems.push(`event ${ev.id} (${ev.type}) names audit seq ${ev.audit.seq} with another hash`);
  }
  return problems;
}
