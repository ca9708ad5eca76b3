// npm run incident:verify -- FILE [--public-key KEY] [--database-url URL] [--export AUDIT_EXPORT.ndjson[.gz]]
// Checks a signed incident record (alerts.incidentRecord; the web app's "Download signed record"):
//   1. the Ed25519 signature, offline, with the public key the record names (and, with --public-key,
//      that it is the key you expected: base64 SPKI or raw 32 bytes, PEM, or a file holding one);
//   2. every audit entry's hash, recomputed from its content with the audit chain's own hash function
//      (server/audit/chain.ts), and the links between consecutive entries;
//   3. with --database-url, every entry against the live audit_logs row of that id: same seq, same
//      hash, same content, and the live row's hash still its content's.
// Prints each problem and a verdict; exits 0 when everything checks, 1 on any mismatch, 2 on bad usage.
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { rowHash } from '../server/audit/chain.js';
import { auditEntriesByIds } from '../server/alerts/incident-record.js';
import { type IncidentRecord, incidentRecordSchema } from '../server/alerts/incident-schemas.js';
import { auditProblems, canonicalJson, parsePublicKey, signatureProblems, toChainRow } from '../server/alerts/incident-signing.js';
import { loadConfig } from '../server/config.js';
import { createDatabase, createPool } from '../server/db/client.js';

const usage = 'usage: npm run incident:verify -- FILE [--public-key KEY] [--database-url postgres://…] [--export audit-export.ndjson.gz]';

function readRecord(file: string): { record?: IncidentRecord; problem?: string } {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { problem: `${file} is not a JSON document (${(err as Error).message}): it is damaged or not an incident record` };
  }
  const parsed = incidentRecordSchema.safeParse(data);
  if (!parsed.success) {
    const where = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    return { problem: `${file} is not a well-formed incident record: ${where.join('; ')}` };
  }
  // The checks read the document as written, not zod's copy of it: a parse drops fields this verifier
  // does not know (a newer record) and fills defaults, and the signature covers the bytes as signed.
  return { record: data as IncidentRecord };
}

async function databaseProblems(record: IncidentRecord, url: string): Promise<string[]> {
  const config = loadConfig({ ...process.env, DATABASE_URL: url });
  const pool = createPool(config, { url, max: 1 });
  try {
    const live = await auditEntriesByIds(createDatabase(pool), record.audit.map((e) => e.id));
    const problems: string[] = [];
    for (const e of record.audit) {
      const row = live.get(e.id);
      const label = `audit seq ${e.seq} (${e.action})`;
      if (!row) {
        problems.push(`${label}: no such row in the database (deleted, or another database)`);
        continue;
      }
      if (row.chainId !== e.chainId || row.seq !== e.seq) problems.push(`${label}: the database has it at ${row.chainId} seq ${row.seq}`);
      if (row.hash !== e.hash) problems.push(`${label}: the database row's hash differs from the record's`);
      const changed = (Object.keys(e) as (keyof typeof e)[]).filter((k) => canonicalJson(e[k]) !== canonicalJson(row[k]));
      if (changed.length) problems.push(`${label}: the database row differs from the record in ${changed.join(', ')}`);
      if (rowHash(toChainRow(row)) !== row.hash) problems.push(`${label}: the database row's content no longer matches its own hash (changed in place)`);
    }
    return problems;
  } finally {
    await pool.end();
  }
}

/**
 * Every entry against an audit export (audit.exportLogs, NDJSON, gzip'd or not) taken independently of
 * the record: same id at the same seq with the same hash. The risk team's check with no database access.
 */
function exportProblems(record: IncidentRecord, file: string): string[] {
  const raw = readFileSync(file);
  const text = (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('utf8');
  const rows = new Map<string, { seq: string; hash: string }>();
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    let row: { id?: unknown; seq?: unknown; hash?: unknown };
    try {
      row = JSON.parse(line);
    } catch {
      return [`line ${i + 1} of the export is not JSON (only NDJSON exports can be compared)`];
    }
    if (typeof row.id === 'string') rows.set(row.id, { seq: String(row.seq), hash: String(row.hash) });
  }
  const problems: string[] = [];
  for (const e of record.audit) {
    const row = rows.get(e.id);
    const label = `entry seq ${e.seq} (${e.action})`;
    if (!row) problems.push(`${label}: not in the export (another period or hospital, or removed)`);
    else if (row.seq !== String(e.seq) || row.hash !== e.hash) problems.push(`${label}: the export has it at seq ${row.seq} with another hash`);
  }
  return problems;
}

const options = { 'public-key': { type: 'string' }, 'database-url': { type: 'string' }, export: { type: 'string' } } as const;

function args() {
  try {
    return parseArgs({ options, allowPositionals: true });
  } catch (err) {
    return err as Error;
  }
}

async function main(): Promise<number> {
  const parsed = args();
  if (parsed instanceof Error) {
    console.error(`${parsed.message}\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    console.error(usage);
    return 2;
  }
  const file = positionals[0] as string;
  if (!existsSync(file)) {
    console.error(`${file}: no such file\n${usage}`);
    return 2;
  }
  let expected: ReturnType<typeof parsePublicKey> | undefined;
  if (values['public-key']) {
    const given = values['public-key'];
    try {
      expected = parsePublicKey(existsSync(given) ? readFileSync(given, 'utf8') : given);
    } catch {
      console.error('--public-key: not an Ed25519 public key (base64 SPKI DER or 32 raw bytes, or PEM, or a file holding one)');
      return 2;
    }
  }

  const { record, problem } = readRecord(file);
  if (!record) {
    console.log(`FAIL  ${problem}`);
    console.log('VERDICT: NOT VERIFIED');
    return 1;
  }
  const checks: [string, string[]][] = [
    [`signature (Ed25519, key ${record.signature.keyId})`, signatureProblems(record, expected)],
    [`audit chain entries (${record.audit.length}), recomputed offline`, auditProblems(record)],
  ];
  if (values['database-url']) checks.push([`audit entries against the database`, await databaseProblems(record, values['database-url'])]);
  if (values.export) {
    if (!existsSync(values.export)) {
      console.error(`--export ${values.export}: no such file`);
      return 2;
    }
    checks.push([`audit entries against the export ${values.export}`, exportProblems(record, values.export)]);
  }

  console.log(`Incident record of alert ${record.alert.id} (${record.alert.title}), ${record.hospital.name}, generated ${record.generatedAt} by ${record.generatedBy.name}`);
  console.log(`${record.events.length} event(s), ${record.pages.length} page(s), ${record.attempts.length} notification attempt(s), ${record.audit.length} audit entr${record.audit.length === 1 ? 'y' : 'ies'}`);
  let failed = 0;
  for (const [what, problems] of checks) {
    if (!problems.length) console.log(`ok    ${what}`);
    for (const p of problems) console.log(`FAIL  ${what}: ${p}`);
    failed += problems.length;
  }
  // A valid signature proves the record is unchanged since it was signed by that key; whose key it is
  // is the reader's question: compare with the hospital's published key, or pass --public-key.
  if (!expected) console.log(`note  signed by key ${record.signature.keyId}: compare with your hospital's published key (or pass --public-key)`);
  if (!values['database-url'] && !values.export) console.log('note  not compared with a database or an export (add --database-url, or --export with an audit export in NDJSON)');
  console.log(failed ? `VERDICT: NOT VERIFIED (${failed} problem(s))` : 'VERDICT: VERIFIED');
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`incident:verify failed: ${(err as Error).message}`);
    process.exit(2);
  },
);
