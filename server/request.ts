/**
 * What a service may know of the request that called it. The transport (server/trpc, server/http)
 * fills it in; it lives in the ground so domains never import the transport (DESIGN.md, "Layers").
 */
export interface RequestMeta {
  requestId: string;
  ip: string;
  userAgent: string | null;
  transport: 'http' | 'ws';
}

/** The caller's address and user agent, as services record them in sessions and audit rows. */
export type ClientMeta = Pick<RequestMeta, 'ip' | 'userAgent'>;
