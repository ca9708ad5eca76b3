import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where Clarion may POST on a user's or an integrator's say-so. A webhook URL is input: without a
 * check it reaches Redis, Postgres or a cloud metadata endpoint from inside the hospital network
 * (SSRF). The check runs on the address actually connected to — inside the socket's DNS lookup —
 * so a name that resolves to a public address when added and to 127.0.0.1 later (DNS rebinding)
 * is still refused.
 */
export interface OutboundPolicy {
  /** Private, loopback and link-local targets allowed (development and test; production: no). */
  allowPrivate: boolean;
  /** Host names (lower case) allowed whatever they resolve to: a hospital's own pager gateway. */
  allowedHosts: readonly string[];
}

export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
}

const isPublic = (address: string) => {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
};

function checkAddress(policy: OutboundPolicy, host: string, address: string): void {
  if (policy.allowPrivate || policy.allowedHosts.includes(host.toLowerCase())) return;
  if (!isPublic(address)) throw new OutboundRefused(`${host} resolves to ${address}, a private or local address: not allowed (ask IT to allow-list it)`);
}

const guardedLookup =
  (policy: OutboundPolicy, host: string): LookupFunction =>
  (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      try {
        for (const a of addresses) checkAddress(policy, host, a.address);
      } catch (refused) {
        return callback(refused as NodeJS.ErrnoException, '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };

/** Refuses a URL whose host is a literal private address before any socket opens (no lookup runs for those). */
export function checkOutboundUrl(policy: OutboundPolicy, url: URL): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) checkAddress(policy, host, host);
}

/** POSTs `body` and resolves with the HTTP status; never follows redirects (a 3xx is a refusal). */
export async function postGuarded(policy: OutboundPolicy, target: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<number> {
  const url = new URL(target);
  checkOutboundUrl(policy, url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: guardedLookup(policy, url.hostname), timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
