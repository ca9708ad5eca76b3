import type { OpenAPIObject } from 'trpc-to-openapi';

/*
 * /api/docs: a self-contained page (no scripts, the app's CSP allows none from elsewhere) listing each
 * operation of the OpenAPI document with its parameters, body fields and a curl example.
 */
const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

type Schema = { type?: string | string[]; enum?: unknown[]; properties?: Record<string, Schema>; required?: string[]; maxLength?: number; description?: string; format?: string };
type Op = { summary?: string; description?: string; parameters?: { name: string; in: string; required?: boolean }[]; requestBody?: { content?: Record<string, { schema?: Schema }> } };

const typeOf = (s: Schema) => (s.enum ? s.enum.map((v) => JSON.stringify(v)).join(' | ') : [s.type, s.format].filter(Boolean).join(', ')) + (s.maxLength ? ` (≤ ${s.maxLength})` : '');

function fields(schema: Schema | undefined): string {
  const props = Object.entries(schema?.properties ?? {});
  if (props.length === 0) return '';
  const rows = props.map(([k, s]) => `<tr><td><code>${esc(k)}</code></td><td>${esc(typeOf(s))}</td><td>${schema?.required?.includes(k) ? 'required' : 'optional'}</td></tr>`);
  return `<table><tr><th>Body field</th><th>Type</th><th></th></tr>${rows.join('')}</table>`;
}

const example: Record<string, string> = { departmentId: 'DEPARTMENT_ID', title: 'Bed 12 SpO2 low', priority: 'high', alertType: 'monitor', roomNumber: '12' };

function curl(method: string, path: string, op: Op): string {
  const body = op.requestBody?.content?.['application/json']?.schema;
  const keys = Object.keys(body?.properties ?? {}).filter((k) => k in example);
  const lines = [`curl -X ${method.toUpperCase()} "$CLARION/api/v1${path.replace('{id}', 'ALERT_ID')}"`, '  -H "Authorization: Bearer $CLARION_KEY"'];
  if (method !== 'get') {
    lines.push('  -H "Content-Type: application/json"');
    if (path === '/alerts') lines.push('  -H "Idempotency-Key: $(uuidgen)"');
    lines.push(`  -d '${JSON.stringify(Object.fromEntries(keys.map((k) => [k, example[k]])))}'`);
  }
  return lines.join(' \\\n');
}

export function docsPage(doc: OpenAPIObject): string {
  const ops = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item as Record<string, Op>).map(([method, op]) => {
      const params = (op.parameters ?? []).map((p) => `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''})</li>`).join('');
      return `<section><h2><span class="m">${esc(method.toUpperCase())}</span> <code>/api/v1${esc(path)}</code></h2>
<p>${esc(op.summary)}</p>${op.description ? `<p>${esc(op.description)}</p>` : ''}${params ? `<ul>${params}</ul>` : ''}
${fields(op.requestBody?.content?.['application/json']?.schema)}<pre>${esc(curl(method, path, op))}</pre></section>`;
    }),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)}</title><style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
pre{background:#f3f4f6;padding:.75rem;white-space:pre-wrap;overflow-wrap:anywhere}table{border-collapse:collapse}td,th{border:1px solid #d1d5db;padding:.25rem .5rem;text-align:left}
.m{background:#1d4ed8;color:#fff;padding:0 .4rem;border-radius:3px;font-size:.9em}section{border-top:1px solid #e5e7eb;margin-top:1.5rem}</style></head><body>
<h1>${esc(doc.info.title)}</h1><p>${esc(doc.info.description)}</p>
<p>Errors are JSON: <code>{ "error": { "code", "message", "fieldErrors"? } }</code> — 400 bad input, 401 no or bad key, 403 missing scope, 404 not in your hospital, 409 wrong state or a duplicate still running, 415 not JSON, 422 Idempotency-Key reused with another body, 429 rate limit (Retry-After).</p>
<p>The machine-readable document: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI ${esc(doc.openapi)}).</p>
${ops.join('\n')}</body></html>`;
}
