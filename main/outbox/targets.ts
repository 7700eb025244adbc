/**
 * Which URLs a webhook may point at. http(s) only, no credentials in the URL (use basic_auth).
 * Loopback, private and link-local targets are allowed unless `blockPrivate` (on-prem
 * receivers are the common case); when blocked, both the literal host and every address it
 * resolves to at delivery time are checked, so DNS cannot smuggle a private target in.
 */
import { isIP } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';

export type UrlProblem = string | null;

/** A reason the URL is unacceptable, or null. */
export function checkWebhookUrl(raw: string, blockPrivate: boolean): UrlProblem {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// URL';
  if (url.username || url.password) return 'must not contain credentials; use authType basic_auth';
  if (!url.hostname) return 'has no host';
  if (/[\s\u0000-\u001f]/.test(raw)) return 'must not contain whitespace or control characters';
  if (blockPrivate && isPrivateHost(url.hostname)) return 'points at a loopback or private address, which this server blocks (webhookBlockPrivateTargets)';
  return null;
}

function isPrivateHost(hostname: string): boolean {
  // `localhost.` is `localhost`: a fully qualified name may end in a dot.
  const h = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  return isIP(h) !== 0 && isPrivateAddress(h);
}

export function isPrivateAddress(address: string): boolean {
  const a = address.toLowerCase();
  if (isIP(a) === 4) {
    const [x = 0, y = 0] = a.split('.').map(Number);
    return x === 0 || x === 10 || x === 127 || (x === 100 && y >= 64 && y < 128) || (x === 169 && y === 254) ||
      (x === 172 && y >= 16 && y < 32) || (x === 192 && y === 168);
  }
  if (a.startsWith('::ffff:')) return isPrivateAddress(a.slice(7));
  return a === '::' || a === '::1' || a.startsWith('fc') || a.startsWith('fd') || a.startsWith('fe8') || a.startsWith('fe9') ||
    a.startsWith('fea') || a.startsWith('feb');
}

/** A dns lookup for http.request that fails when any resolved address is private. */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(Object.assign(new Error(`${hostname} resolves to a private address (${bad.address}), blocked by webhookBlockPrivateTargets`), { code: 'EPRIVATE' }), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
};
