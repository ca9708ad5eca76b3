import type { IncomingMessage, ServerResponse } from 'node:http';
import { createOpenApiHttpHandler, generateOpenApiDocument } from 'trpc-to-openapi';
import type { AppDeps } from '../deps.js';
import { clientIp } from '../http/client-info.js';
import { authenticateKey } from '../integrations/keys.js';
import { docsPage } from './docs.js';
import { restApiRouter } from './router.js';
import { isMalformedBody } from './trpc.js';

const PREFIX = '/api/v1';
const MAX_BODY_BYTES = 1_000_000;

/** The OpenAPI 3.1 document, generated once from the REST router's zod schemas. */
export const openApiDocument = generateOpenApiDocument(restApiRouter, {
  title: 'Clarion REST API',
  version: '1.0.0',
  description: 'Raise, read, acknowledge and resolve alerts from other systems with an API key (Authorization: Bearer clk_…).',
  baseUrl: PREFIX,
  securitySchemes: { Authorization: { type: 'http', scheme: 'bearer', description: 'An API key from Admin › Integrations (integrations.createKey)' } },
});

const sendJson = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

/**
 * trpc-to-openapi spreads its own fields (code, message, issues) over the error shape; integrators get
 * exactly `{ error: { code, message, fieldErrors? } }` (the shape made in trpc.ts).
 */
function keepErrorShape(res: ServerResponse): void {
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  res.end = ((chunk?: unknown) => {
    if (res.statusCode < 400 || typeof chunk !== 'string') return end(chunk);
    let body: { error?: unknown; code?: string; message?: string } = {};
    try {
      body = JSON.parse(chunk);
    } catch {}
    return end(JSON.stringify({ error: body.error ?? { code: body.code ?? 'ERROR', message: body.message ?? 'Request failed' } }));
  }) as typeof res.end;
}

export async function handleRest(deps: AppDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (path === `${PREFIX}/openapi.json` && req.method === 'GET') return sendJson(res, 200, openApiDocument);
  if (path === '/api/docs' && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    return void res.end(docsPage(openApiDocument));
  }
  if (!path.startsWith(`${PREFIX}/`)) return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'Not found' } });
  res.setHeader('cache-control', 'no-store');
  keepErrorShape(res);
  req.url = (req.url ?? '/').slice(PREFIX.length);
  return handler(deps)(req, res);
}

const handlers = new WeakMap<AppDeps, ReturnType<typeof createOpenApiHttpHandler>>();
function handler(deps: AppDeps) {
  let h = handlers.get(deps);
  if (!h) {
    h = createOpenApiHttpHandler({
      router: restApiRouter,
      maxBodySize: MAX_BODY_BYTES,
      createContext: async ({ req: typed, res }) => {
        // The standalone adapter hands over a Fetch Request (typed as IncomingMessage); the socket's
        // address is on the Node response's request.
        const req = typed as unknown as Request;
        const auth = req.headers.get('authorization');
        const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
        return { deps, req, res, caller: await authenticateKey(deps.db, token), ip: clientIp(res.req, deps.config.auth.trustProxyHops) };
      },
      responseMeta: ({ errors, paths, ctx }) => {
        if (errors[0] && isMalformedBody(errors[0], ctx)) return { status: 400 };
        return errors.length === 0 && paths?.[0] === 'createAlert' ? { status: 201 } : {};
      },
      onError: ({ error, path, ctx }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR' && !isMalformedBody(error, ctx)) deps.log.error({ err: error.cause ?? error, procedure: path }, 'REST request failed');
      },
    });
    handlers.set(deps, h);
  }
  return h;
}
