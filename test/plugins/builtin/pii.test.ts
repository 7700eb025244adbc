import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ibanValid, luhnValid, piiPlugin, type PiiFinding, type PiiSettings } from '../../../main/plugins/builtin/pii.js';
import { makeCtx, message, messageEvent, onlyAnnotation, resultOf } from './ctx.js';

const DEFAULTS: PiiSettings = { types: ['email', 'phone', 'card', 'iban'], redact: false };

async function run(content: string, settings: Partial<PiiSettings> = {}) {
  return piiPlugin.handle(messageEvent(message(content)), makeCtx({ ...DEFAULTS, ...settings }));
}

async function findings(content: string, settings: Partial<PiiSettings> = {}) {
  const output = await run(content, settings);
  if (!output) return [];
  const a = onlyAnnotation(output);
  assert.equal(a.type, 'pii');
  assert.equal(a.score, 1);
  return (a.content as { findings: PiiFinding[] }).findings.map((f) => ({ ...f, text: content.slice(f.start, f.end) }));
}

describe('pii plugin', () => {
  test('email: found and masked', async () => {
    const [f, ...rest] = await findings('mail john.doe@example.com please');
    assert.equal(rest.length, 0);
    assert.deepEqual(f, { kind: 'email', start: 5, end: 25, masked: 'j***@example.com', text: 'john.doe@example.com' });
  });

  test('phone numbers: international and national forms', async () => {
    for (const [text, number, masked] of [
      ['call +49 30 1234 5678 now', '+49 30 1234 5678', '+49 ** **** **78'],
      ['call +1 (555) 123-4567', '+1 (555) 123-4567', '+1 (***) ***-**67'],
      ['call (555) 123-4567', '(555) 123-4567', '(***) ***-**67'],
      ['call 555.123.4567', '555.123.4567', '***.***.**67'],
      ['call 0049 30 12345678', '0049 30 12345678', '0049 ** ******78'],
      ['call 07911 123456', '07911 123456', '***** ****56'],
      ['call 06 12 34 56 78', '06 12 34 56 78', '** ** ** ** 78'],
      ['call +4930123456789', '+4930123456789', '+49*********89'],
    ] as const) {
      const list = await findings(text);
      assert.deepEqual(
        list.map((f) => [f.kind, f.text, f.masked]),
        [['phone', number, masked]],
        text,
      );
    }
  });

  test('not phone numbers: scores, dates, times, short numbers, amounts, IPs', async () => {
    for (const text of [
      'score 12-10',
      'on 2024-05-01',
      '2024-05-01 10:30',
      'at 10:30',
      'room 4',
      'meet 01.05.2024 at 10.30',
      'order 12345678',
      '1.234.567 views',
      '1 000 000 people',
      'pi is 3.14159265',
      'server 192.168.100.100',
      '1 2 3 4 5 6 7 8',
    ]) {
      assert.equal(await run(text), null, text);
    }
  });

  test('cards: Luhn-valid only, masked to the last four digits, high severity', async () => {
    assert.ok(luhnValid('4111111111111111'));
    assert.ok(!luhnValid('4111111111111112'));
    const output = await run('card 4111 1111 1111 1111 exp 12/27');
    const a = onlyAnnotation(output);
    assert.equal(a.severity, 'high');
    assert.deepEqual(a.content, {
      categories: ['card'],
      findings: [{ kind: 'card', start: 5, end: 24, masked: '**** **** **** 1111' }],
    });
    assert.equal(await run('card 4111 1111 1111 1112'), null);
    assert.deepEqual((await findings('4111-1111-1111-1111')).map((f) => f.masked), ['****-****-****-1111']);
    assert.deepEqual((await findings('amex 378282246310005')).map((f) => f.kind), ['card']);
    assert.equal(await run('4111 1111 1111 1111 1111'), null); // 20 digits: not a card
  });

  test('IBANs: mod-97 checked, masked, high severity', async () => {
    assert.ok(ibanValid('GB82 WEST 1234 5698 7654 32'));
    assert.ok(ibanValid('DE89370400440532013000'));
    assert.ok(!ibanValid('DE88 3704 0044 0532 0130 00'));
    assert.ok(!ibanValid('GB82 WEST 1234 5698 7654 33'));

    const gb = await findings('pay to GB82 WEST 1234 5698 7654 32 thanks');
    assert.deepEqual(gb, [{ kind: 'iban', start: 7, end: 34, masked: 'GB** **** … 5432', text: 'GB82 WEST 1234 5698 7654 32' }]);
    const de = await findings('DE89 3704 0044 0532 0130 00');
    assert.deepEqual(de.map((f) => f.masked), ['DE** **** … 3000']);
    assert.deepEqual((await findings('de89370400440532013000')).map((f) => f.kind), ['iban']);
    assert.equal(await run('DE88 3704 0044 0532 0130 00'), null);
    assert.equal(await run('GB82 WEST 1234 5698 7654 33'), null);
    const a = onlyAnnotation(await run('DE89 3704 0044 0532 0130 00'));
    assert.equal(a.severity, 'high');
  });

  test('masks never contain the full value', async () => {
    const text = 'a jane@example.org b +44 20 7946 0958 c 5500 0000 0000 0004 d GB82 WEST 1234 5698 7654 32';
    const list = await findings(text);
    assert.deepEqual(list.map((f) => f.kind), ['email', 'phone', 'card', 'iban']);
    for (const f of list) {
      assert.ok(!f.masked.includes(f.text), f.masked);
      assert.ok(!f.masked.replace(/\W/g, '').includes(f.text.replace(/\W/g, '')), f.masked);
    }
    const a = onlyAnnotation(await run(text));
    assert.deepEqual((a.content as { categories: string[] }).categories, ['email', 'phone', 'card', 'iban']);
    assert.equal(a.severity, 'high');
  });

  test('email and phone only: medium severity', async () => {
    const a = onlyAnnotation(await run('reach me at jane@example.org or 555-123-4567'));
    assert.equal(a.severity, 'medium');
    assert.deepEqual((a.content as { categories: string[] }).categories, ['email', 'phone']);
  });

  test('redaction replaces every finding', async () => {
    const text = 'mail jane@example.org, call +49 30 1234 5678, card 4111 1111 1111 1111, iban DE89 3704 0044 0532 0130 00.';
    const result = resultOf(await run(text, { redact: true }));
    assert.equal(result.redactedContent, 'mail [email], call [phone], card [card], iban [iban].');
    assert.equal(resultOf(await run(text)).redactedContent, undefined);
  });

  test('types setting limits what is looked for', async () => {
    const text = 'jane@example.org 4111 1111 1111 1111';
    assert.deepEqual((await findings(text, { types: ['card'] })).map((f) => f.kind), ['card']);
    assert.equal(await run('jane@example.org', { types: ['phone'] }), null);
  });

  test('no findings: no output', async () => {
    assert.equal(await run('nothing personal here, see you at 10:30'), null);
  });

  test('regexes stay linear on adversarial input', async () => {
    for (const input of ['1 '.repeat(5000), 'a@'.repeat(5000), 'x@' + 'a.'.repeat(5000), '(1'.repeat(5000), 'AB12'.repeat(2500), '4'.repeat(10_000)]) {
      const started = performance.now();
      await run(input);
      assert.ok(performance.now() - started < 1000);
    }
  });

  test('validateSettings', () => {
    assert.deepEqual(piiPlugin.validateSettings!(DEFAULTS), []);
    assert.deepEqual(piiPlugin.validateSettings!({ types: ['email', 'ssn' as 'email'], redact: false }), [
      { field: 'types/1', message: 'must be one of email, phone, card, iban' },
    ]);
  });
});
