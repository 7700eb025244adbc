import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkWebhookUrl, isPrivateAddress, publicOnlyLookup } from '../../main/outbox/targets.js';
import { parseRetryAfter, retryDelayMs } from '../../main/outbox/schedule.js';

test('private, loopback and link-local addresses are recognised (v4, v6, v4-mapped)', () => {
  for (const a of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.1.1.1']) {
    assert.ok(isPrivateAddress(a), a);
  }
  for (const a of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8']) assert.ok(!isPrivateAddress(a), a);
});

test('URL checks: scheme, credentials, and private hosts only when blocked', () => {
  assert.equal(checkWebhookUrl('http://127.0.0.1:8080/x', false), null);
  assert.match(checkWebhookUrl('http://127.0.0.1:8080/x', true) ?? '', /private/);
  assert.match(checkWebhookUrl('http://localhost./x', true) ?? '', /private/, 'a trailing dot does not hide localhost');
  assert.match(checkWebhookUrl('http://sub.localhost/x', true) ?? '', /private/);
  assert.equal(checkWebhookUrl('https://example.com/hook', true), null);
  assert.match(checkWebhookUrl('file:///etc/passwd', false) ?? '', /http/);
  assert.match(checkWebhookUrl('https://a:b@example.com/', false) ?? '', /credentials/);
});

test('the delivery-time lookup refuses a name that resolves to a private address', async () => {
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => publicOnlyLookup('localhost', {}, (e) => resolve(e)));
  assert.ok(err, 'localhost resolves to loopback and is refused');
  assert.equal(err.code, 'EPRIVATE');
});

test('retry schedule: ±20 % jitter around each step, null once used up; Retry-After as seconds or a date', () => {
  const schedule = [0, 5_000, 300_000];
  assert.equal(retryDelayMs(schedule, 0, () => 0.5), 0);
  assert.equal(retryDelayMs(schedule, 1, () => 0), 4_000);
  assert.equal(retryDelayMs(schedule, 1, () => 1), 6_000);
  assert.equal(retryDelayMs(schedule, 2, () => 0.5), 300_000);
  assert.equal(retryDelayMs(schedule, 3), null);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0, 'a date in the past means now');
  assert.equal(parseRetryAfter('soon', now), null);
  assert.equal(parseRetryAfter(undefined, now), null);
  assert.equal(parseRetryAfter('99999999', now), 24 * 3600_000, 'clamped to a day');
});
