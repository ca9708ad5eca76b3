// Regenerates docs/api.md (from the routers' zod schemas) and docs/database.md (a Mermaid ER diagram
// from the drizzle schema): npm run docs [-- --out <dir>]. Deterministic, so a test can check that the
// committed files are current. Needs no database: permissions are found by calling each procedure's
// middleware chain as each role with a context whose dependencies refuse to be used.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { pino } from 'pino';
import { z } from 'zod';
import * as schema from '../server/db/schema.js';
import { permissionMatrix, permissionNames, type Role } from '../server/permissions.js';
import { appRouter } from '../server/router.js';

type Def = { type: 'query' | 'mutation' | 'subscription'; inputs: z.ZodType[]; output?: z.ZodType; meta?: Record<string, unknown> };
const procedures = (appRouter as unknown as { _def: { procedures: Record<string, { _def: Def }> } })._def.procedures;
const roles = Object.keys(permissionMatrix) as Role[];

/** Observability (metrics) and the session cache, which middlewares touch on every call: accepts anything, does nothing, is not awaitable. */
const noop: object = new Proxy(() => undefined, { get: (_t, k) => (k === 'then' ? undefined : noop), apply: () => noop });
/** Dependencies that throw on any other use: reaching them means the middlewares let the caller through. */
const refuse: object = new Proxy(
  {},
  {
    get: (_t, k) => {
      if (k === 'metrics' || k === 'sessionCache') return noop;
      throw new Error('REACHED_RESOLVER');
    },
  },
);

async function outcomeFor(path: string, role: Role | null): Promise<string> {
  const log = pino({ level: 'silent' });
  const user = role && { id: 'docs', role, hospitalId: 'docs', departmentId: null, mustChangePassword: false, mustSetupTwoFactor: false };
  const ctx = { deps: refuse, hub: refuse, log, meta: { requestId: 'docs', ip: '127.0.0.1', userAgent: null, transport: 'http' }, auth: user ? { user, session: { id: 'docs' } } : null };
  const caller = appRouter.createCaller(ctx as never) as unknown as Record<string, Record<string, (input?: unknown) => Promise<unknown>>>;
  const [ns, name] = path.split('.') as [string, string];
  try {
    const r = await caller[ns]?.[name]?.(Symbol('no input') as never);
    // A subscription returns its iterator once the middlewares pass.
    await (r as AsyncIterator<unknown> | undefined)?.return?.();
    return 'OK';
  } catch (err) {
    return (err as { code?: string }).code ?? 'ERROR';
  }
}

/**
 * The permission a procedure's middleware checks, found exactly: a probe role is given one permission at
 * a time (in this process's copy of the matrix only) and the procedure called as that role.
 */
async function permissionOf(path: string): Promise<string[] | null> {
  const matrix = permissionMatrix as Record<string, readonly string[]>;
  try {
    matrix.docs_probe = [];
    if ((await outcomeFor(path, 'docs_probe' as Role)) !== 'FORBIDDEN') return null;
    const found: string[] = [];
    for (const p of permissionNames) {
      matrix.docs_probe = [p];
      if ((await outcomeFor(path, 'docs_probe' as Role)) !== 'FORBIDDEN') found.push(p);
    }
    return found;
  } finally {
    delete matrix.docs_probe;
  }
}

async function accessOf(path: string): Promise<string> {
  if ((await outcomeFor(path, null)) !== 'UNAUTHORIZED') return 'public';
  const allowed: Role[] = [];
  for (const role of roles) if ((await outcomeFor(path, role)) !== 'FORBIDDEN') allowed.push(role);
  const permission = await permissionOf(path);
  const who = allowed.length === roles.length ? 'any signed-in user' : allowed.join(', ');
  return `${who}${permission?.length ? ` (permission ${permission.map((m) => `\`${m}\``).join(' or ')})` : ''}`;
}

function jsonSchema(s: z.ZodType | undefined, io: 'input' | 'output'): string {
  if (!s) return '_none_';
  const j = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete j.$schema;
  return `\n\n\`\`\`json\n${JSON.stringify(j, null, 2)}\n\`\`\``;
}

function errorCodes(path: string, def: Def, access: string): string[] {
  const codes = new Set<string>();
  if (def.inputs.length) codes.add('BAD_REQUEST');
  if (access !== 'public') codes.add('UNAUTHORIZED');
  if (access !== 'public') codes.add('FORBIDDEN');
  const input = def.inputs[0] ? JSON.stringify(z.toJSONSchema(def.inputs[0], { io: 'input', unrepresentable: 'any' })) : '';
  if (/"(id|[a-zA-Z]+Id)"/.test(input)) codes.add('NOT_FOUND');
  if (def.type === 'mutation' && access !== 'public') codes.add('CONFLICT');
  if (path === 'auth.login') codes.add('UNAUTHORIZED').add('TOO_MANY_REQUESTS');
  if (def.type === 'subscription') codes.add('PRECONDITION_FAILED');
  if (def.inputs.length || def.type === 'mutation') codes.add('PAYLOAD_TOO_LARGE');
  return [...codes];
}

async function apiDoc(): Promise<string> {
  const entries = Object.entries(procedures).sort(([a], [b]) => a.localeCompare(b));
  const rows: string[] = [];
  const sections: string[] = [];
  for (const [path, { _def: def }] of entries) {
    const access = typeof def.meta?.permission === 'string' ? `permission \`${def.meta.permission}\`` : await accessOf(path);
    const codes = errorCodes(path, def, access);
    rows.push(`| [\`${path}\`](#${path.replace('.', '').toLowerCase()}) | ${def.type} | ${access} |`);
    sections.push(
      [
        `### ${path}`,
        '',
        `- type: **${def.type}** (${def.type === 'query' ? '`GET /trpc/' + path + '?input=…`' : def.type === 'mutation' ? '`POST /trpc/' + path + '`' : 'WebSocket `/trpc`, events `tracked(id, event)`'})`,
        `- who may call it: ${access}`,
        `- error codes: ${codes.map((c) => `\`${c}\``).join(', ')}`,
        '',
        `**Input**${jsonSchema(def.inputs[0], 'input')}`,
        '',
        `**Output**${def.type === 'subscription' ? ' — a stream of alert events (see DESIGN.md, "An alert event")' : jsonSchema(def.output, 'output')}`,
      ].join('\n'),
    );
  }
  return [
    '# Clarion API',
    '',
    '<!-- Generated by `npm run docs` (scripts/gen-docs.ts) from the routers. Do not edit by hand. -->',
    '',
    'tRPC v11 over plain JSON (no transformer). HTTP and WebSocket share one port: `http://HOST:PORT/trpc`,',
    '`ws://HOST:PORT/trpc`. Authenticate with `Authorization: Bearer <token>` (HTTP) or `connectionParams: { token }`',
    '(WebSocket). Errors carry `error.data.code`; zod failures add `error.data.fieldErrors`. Bodies over 1 MB are',
    'refused with 413. Nothing a client sends produces `INTERNAL_SERVER_ERROR`.',
    '',
    '"Who may call it" is measured, not declared: the generator calls each procedure\'s middleware chain as each',
    'role and records which are refused with `FORBIDDEN`; the permission named is the one in `server/permissions.ts`',
    'granted to exactly those roles. Record-level rules (own department, own alerts, other hospitals → `NOT_FOUND`)',
    'apply on top. Error codes list what a caller should be prepared for.',
    '',
    '| procedure | type | who may call it |',
    '|---|---|---|',
    ...rows,
    '',
    '## Procedures',
    '',
    sections.join('\n\n'),
    '',
  ].join('\n');
}

const mermaidType = (t: string) => t.replace(/ with time zone/, 'tz').replace(/\(.*\)/, '').replace(/[^A-Za-z0-9_]/g, '_');

function databaseDoc(): string {
  const tables = (Object.values(schema) as unknown[])
    .filter((v): v is PgTable => v instanceof PgTable)
    .map((t) => getTableConfig(t))
    .sort((a, b) => a.name.localeCompare(b.name));
  const lines = ['erDiagram'];
  const details: string[] = [];
  for (const t of tables) {
    for (const fk of t.foreignKeys) {
      const ref = fk.reference();
      const target = getTableConfig(ref.foreignTable).name;
      lines.push(`  ${target} ||--o{ ${t.name} : "${ref.columns.map((c) => c.name).join(', ')}"`);
    }
  }
  for (const t of tables) {
    const pk = new Set([...t.columns.filter((c) => c.primary).map((c) => c.name), ...t.primaryKeys.flatMap((p) => p.columns.map((c) => c.name))]);
    const fkCols = new Set(t.foreignKeys.flatMap((f) => f.reference().columns.map((c) => c.name)));
    const uniq = new Set([...t.columns.filter((c) => c.isUnique).map((c) => c.name), ...t.uniqueConstraints.flatMap((u) => (u.columns.length === 1 ? [u.columns[0]?.name] : []))]);
    lines.push(`  ${t.name} {`);
    for (const c of t.columns) {
      const keys = [pk.has(c.name) ? 'PK' : '', fkCols.has(c.name) ? 'FK' : '', uniq.has(c.name) && !pk.has(c.name) ? 'UK' : ''].filter(Boolean).join(', ');
      lines.push(`    ${mermaidType(c.getSQLType())} ${c.name}${keys ? ` ${keys}` : ''}${c.notNull ? '' : ' "nullable"'}`);
    }
    lines.push('  }');
    const idx = t.indexes.map((i) => `\`${i.config.name}\`${i.config.unique ? ' (unique)' : ''}`);
    const checks = t.checks.map((c) => `\`${c.name}\``);
    details.push(`| \`${t.name}\` | ${t.columns.length} | ${idx.join(', ') || '—'} | ${checks.join(', ') || '—'} |`);
  }
  return [
    '# Clarion database',
    '',
    '<!-- Generated by `npm run docs` (scripts/gen-docs.ts) from server/db/schema.ts. Do not edit by hand. -->',
    '',
    'Entity-relationship diagram of the drizzle schema (`server/db/schema.ts`); migrations in `migrations/` create it.',
    'Triggers and SQL functions (the audit hash chain, `audit_verify`, `audit_purge`, `uuid_v7`) live in the',
    'migrations and are not shown. Every relationship is a foreign key (`ON DELETE RESTRICT` unless noted in the schema).',
    '',
    '```mermaid',
    ...lines,
    '```',
    '',
    '| table | columns | indexes | checks |',
    '|---|---|---|---|',
    ...details,
    '',
  ].join('\n');
}

export async function generateDocs(): Promise<{ 'api.md': string; 'database.md': string }> {
  return { 'api.md': await apiDoc(), 'database.md': databaseDoc() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: new URL('../docs', import.meta.url).pathname } } });
  const docs = await generateDocs();
  mkdirSync(values.out as string, { recursive: true });
  for (const [name, text] of Object.entries(docs)) {
    writeFileSync(join(values.out as string, name), text);
    console.log(`wrote ${join(values.out as string, name)}`);
  }
  process.exit(0);
}
