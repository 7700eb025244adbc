/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the signed content is
 * `${id}.${timestamp}.${body}`, the HMAC-SHA256 key is the base64-decoded part of a
 * `whsec_…` secret, and `webhook-signature` lists `v1,<base64>` entries separated by spaces
 * (two while a rotated-out secret is still valid).
 */
import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

const keys = new Map<string, Buffer>();

/** The HMAC key of a secret, decoded once (a handful of secrets sign thousands of requests). */
function keyOf(secret: string): Buffer {
  let key = keys.get(secret);
  if (key === undefined) {
    if (keys.size > 1000) keys.clear();
    key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
    keys.set(secret, key);
  }
  return key;
}

/** `whsec_…` followed by the last four characters: enough to tell secrets apart, useless to an attacker. */
export function maskSecret(secret: string): string {
  return `${SECRET_PREFIX}…${secret.slice(-4)}`;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Headers for one attempt. `secrets` are the current secret first, then any still-valid old one. */
export function signHeaders(id: string, body: string, secrets: readonly string[], nowMs = Date.now()): SignedHeaders {
  const timestamp = String(Math.floor(nowMs / 1000));
  const signature = secrets
    .map((s) => 'v1,' + createHmac('sha256', keyOf(s)).update(`${id}.${timestamp}.`).update(body).digest('base64'))
    .join(' ');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
}
