/**
 * Bad input never breaks the API: every mistake is a 4xx `application/problem+json` naming
 * the field, nothing is a 500, odd but valid strings round-trip byte-identical, and a small
 * seeded fuzz loop hammers the write routes. The server stays healthy afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertProblem, P, readSse, startServer, type ApiOptions, type ApiResponse, type Server } from './helpers.js';

let s: Server;
let sessionId: string;
let messageId: string;
let gatheringId: string;
let memberId: string;
let participantId: string;
let sanctionId: string;
/** Every response this file's checked `api` saw: audited at the end. */
const seen: { where: string; res: ApiResponse }[] = [];

async function api(method: string, path: string, o: ApiOptions = {}): Promise<ApiResponse> {
  const res = await s.api(method, path, o);
  seen.push({ where: `${method} ${path.slice(0, 120)}`, res });
  assert.ok(res.status < 500, `${method} ${path.slice(0, 120)} → ${res.status} ${res.text.slice(0, 300)}`);
  return res;
}

const JSON_CT = { 'content-type': 'application/json' };

before(async () => {
  s = await startServer();
  sessionId = (await api('POST', `${P}/sessions`, { body: { title: 'v' } })).json.id;
  const m = await api('POST', `${P}/sessions/${sessionId}/messages`, { body: { content: 'hi', externalUserId: 'val-user' } });
  messageId = m.json.id;
  participantId = m.json.participantId;
  gatheringId = (await api('POST', `${P}/gatherings`, { body: { name: 'g' } })).json.id;
  memberId = (await api('POST', `${P}/gatherings/${gatheringId}/members`, { body: { externalUserId: 'val-user' } })).json.id;
  sanctionId = (await api('POST', `${P}/sanctions`, { body: { type: 'warn', participantId } })).json.id;
});
after(() => s.close());

describe('bodies', () => {
  test('malformed JSON → 400 malformed_json', async () => {
    for (const raw of ['{bad', '{"content":', '[1,2', '{"a":1}}', 'nul', '{"content":"x",}', "{'content':'x'}", '\u0000']) {
      const r = await api('POST', `${P}/sessions/${sessionId}/messages`, { body: raw, headers: JSON_CT });
      assertProblem(r, 400, 'body', JSON.stringify(raw));
      assert.equal(r.json.code, 'malformed_json');
    }
  });

  test('wrong types (a number is not a string, no coercion)', async () => {
    const cases: [string, unknown, string][] = [
      [`${P}/sessions`, { title: 5 }, 'body/title'],
      [`${P}/sessions`, { start: 'true' }, 'body/start'],
      [`${P}/sessions`, { idleTimeout: '60' }, 'body/idleTimeout'],
      [`${P}/sessions/${sessionId}/messages`, { content: 123 }, 'body/content'],
      [`${P}/sessions/${sessionId}/messages`, { content: ['x'] }, 'body/content'],
      [`${P}/sessions/${sessionId}/messages`, { content: 'x', hasDebugAudio: 1 }, 'body/hasDebugAudio'],
      [`${P}/participants`, { externalUserId: 'u', userData: [1] }, 'body/userData'],
      [`${P}/gatherings`, { name: 'g', maxMembers: 1.5 }, 'body/maxMembers'],
      [`${P}/sanctions`, { type: 'warn', externalUserId: 'u', durationSeconds: '60' }, 'body/durationSeconds'],
      [`${P}/sanctions`, { type: 'nuke', externalUserId: 'u' }, 'body/type'],
      ['/api/keys', { name: 'k', scopes: 'admin' }, 'body/scopes'],
    ];
    for (const [path, body, field] of cases) assertProblem(await api('POST', path, { body }), 400, field, `${path} ${JSON.stringify(body)}`);
    for (const body of [null, [], 5, 'str', true]) {
      assertProblem(await api('POST', `${P}/sessions`, { body: JSON.stringify(body), headers: JSON_CT }), 400, 'body', JSON.stringify(body));
    }
  });

  test('unknown fields are rejected and named', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', `${P}/sessions`, { bogus: 1 }, 'body/bogus'],
      ['PATCH', `${P}/sessions/${sessionId}`, { title: 'x', status: 'ended' }, 'body/status'],
      ['POST', `${P}/sessions/${sessionId}/messages`, { content: 'x', sessionId: 'y' }, 'body/sessionId'],
      ['PATCH', `${P}/participants/${participantId}`, { externalUserId: 'z' }, 'body/externalUserId'],
      ['POST', '/api/keys', { name: 'k', scopes: ['sessions'], tenantId: 'other' }, 'body/tenantId'],
      ['POST', `${P}/sanctions/${sanctionId}/revoke`, { note: 'x' }, 'body/note'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await api(method, path, { body });
      assertProblem(r, 400, field, `${method} ${path}`);
      assert.equal(r.json.code, 'validation');
    }
  });

  test('missing required fields, empty patches, and length limits', async () => {
    assertProblem(await api('POST', `${P}/sessions/${sessionId}/messages`, { body: {} }), 400, 'body/content');
    assertProblem(await api('POST', `${P}/sessions/${sessionId}/messages`, { body: { content: '' } }), 400, 'body/content');
    assertProblem(await api('POST', `${P}/sessions/${sessionId}/messages`, { body: { content: 'x'.repeat(65_537) } }), 400, 'body/content');
    assertProblem(await api('POST', `${P}/gatherings`, { body: {} }), 400, 'body/name');
    assertProblem(await api('POST', `${P}/sanctions`, { body: { externalUserId: 'u' } }), 400, 'body/type');
    assertProblem(await api('POST', '/api/keys', { body: { name: 'k', scopes: [] } }), 400, 'body/scopes');
    assertProblem(await api('PATCH', `${P}/sessions/${sessionId}`, { body: {} }), 400);
    assertProblem(await api('PATCH', `${P}/sessions/${sessionId}/messages/${messageId}`, { body: {} }), 400);
    // Domain-level requirements name their field too.
    assertProblem(await api('POST', `${P}/sanctions`, { body: { type: 'warn' } }), 400, 'body/externalUserId');
    assertProblem(await api('POST', `${P}/sessions/${sessionId}/participants`, { body: {} }), 400, 'body');
  });

  test('oversized body (> 1 MiB) → 413', async () => {
    const big = JSON.stringify({ content: 'x'.repeat(1024 * 1024 + 10) });
    const r = await api('POST', `${P}/sessions/${sessionId}/messages`, { body: big, headers: JSON_CT });
    assertProblem(r, 413);
    assert.equal(r.json.code, 'payload_too_large');
  });

  test('wrong content type → 415', async () => {
    for (const ct of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x']) {
      const r = await api('POST', `${P}/sessions`, { body: '{"title":"x"}', headers: { 'content-type': ct } });
      assertProblem(r, 415, undefined, ct);
      assert.equal(r.json.code, 'unsupported_media_type');
    }
    // The JSON content type with parameters, or in another case, is still JSON.
    assert.equal((await api('POST', `${P}/sessions`, { body: '{"title":"x"}', headers: { 'content-type': 'application/json; charset=utf-8' } })).status, 201);
  });

  test('Idempotency-Key must be 1–255 characters', async () => {
    const r = await api('POST', `${P}/sessions`, { body: {}, headers: { 'idempotency-key': 'k'.repeat(256) } });
    assertProblem(r, 400, 'header/idempotency-key');
  });
});

describe('ids and queries', () => {
  test('unknown ids → 404 naming the param', async () => {
    const n = '01900000-0000-7000-8000-000000000000';
    const cases: [string, string, string, unknown?][] = [
      ['GET', `/api/projects/nope/sessions`, 'params/projectId'],
      ['GET', `/api/projects/nope`, 'params/projectId'],
      ['GET', `${P}/sessions/${n}`, 'params/sessionId'],
      ['PATCH', `${P}/sessions/${n}`, 'params/sessionId', { title: 'x' }],
      ['DELETE', `${P}/sessions/${n}`, 'params/sessionId'],
      ['POST', `${P}/sessions/${n}/start`, 'params/sessionId'],
      ['GET', `${P}/sessions/${n}/messages`, 'params/sessionId'],
      ['POST', `${P}/sessions/${n}/messages`, 'params/sessionId', { content: 'x' }],
      ['GET', `${P}/sessions/${sessionId}/messages/${n}`, 'params/messageId'],
      ['PATCH', `${P}/sessions/${sessionId}/messages/${n}`, 'params/messageId', { content: 'x' }],
      ['POST', `${P}/sessions/${sessionId}/messages/${n}/annotations`, 'params/messageId', { type: 'x' }],
      ['DELETE', `${P}/sessions/${sessionId}/participants/${n}`, 'params/participantId'],
      ['GET', `${P}/participants/${n}`, 'params/participantId'],
      ['GET', `${P}/sanctions/${n}`, 'params/sanctionId'],
      ['POST', `${P}/sanctions/${n}/revoke`, 'params/sanctionId', {}],
      ['GET', `${P}/gatherings/${n}`, 'params/gatheringId'],
      ['GET', `${P}/gatherings/${n}/members`, 'params/gatheringId'],
      ['PATCH', `${P}/gatherings/${gatheringId}/members/${n}`, 'params/memberId', { state: 'left' }],
      ['DELETE', `/api/keys/${n}`, 'params/keyId'],
      // Ids referenced from a body name the body field.
      ['POST', `${P}/sessions/${sessionId}/messages`, 'body/participantId', { content: 'x', participantId: n }],
      ['POST', `${P}/sanctions`, 'body/participantId', { type: 'warn', participantId: n }],
    ];
    for (const [method, path, field, body] of cases) {
      const r = await api(method, path, { body });
      assertProblem(r, 404, field, `${method} ${path}`);
      assert.equal(r.json.code, 'not_found');
    }
    // A member of another gathering is not found through this one.
    const g2 = (await api('POST', `${P}/gatherings`, { body: { name: 'g2' } })).json.id;
    assertProblem(await api('PATCH', `${P}/gatherings/${g2}/members/${memberId}`, { body: { state: 'left' } }), 404, 'params/memberId');
    // A message of another session is not found through this one.
    const s2 = (await api('POST', `${P}/sessions`, { body: {} })).json.id;
    assertProblem(await api('GET', `${P}/sessions/${s2}/messages/${messageId}`), 404, 'params/messageId');
  });

  test('unknown ids referenced from a body name the body field', async () => {
    const n = '01900000-0000-7000-8000-000000000000';
    assertProblem(await api('POST', `${P}/sanctions`, { body: { type: 'warn', externalUserId: 'u', sessionId: n } }), 404, 'body/sessionId');
    assertProblem(await api('POST', '/api/keys', { body: { name: 'k', scopes: ['sessions'], projectId: 'nope' } }), 404, 'body/projectId');
  });

  test('odd path params are 404s, not errors', async () => {
    for (const id of ['%00', "'%22;DROP%20TABLE%20sessions;--", '..%2F..%2Fetc', '%F0%9F%98%80', 'x'.repeat(64), '%20']) {
      const r = await api('GET', `${P}/sessions/${id}`);
      assert.ok(r.status === 404 || r.status === 400, `${id}: ${r.status}`);
      assertProblem(r, r.status, undefined, id);
    }
    assertProblem(await api('GET', `${P}/sessions/${'x'.repeat(65)}`), 400, 'params/sessionId');
  });

  test('paging and filter queries: limit, cursor, unknown params', async () => {
    assertProblem(await api('GET', `${P}/sessions?limit=100000`), 400, 'query/limit');
    assertProblem(await api('GET', `${P}/sessions?limit=0`), 400, 'query/limit');
    assertProblem(await api('GET', `${P}/sessions?limit=abc`), 400, 'query/limit');
    assertProblem(await api('GET', `${P}/sessions?limit=1.5`), 400, 'query/limit');
    assertProblem(await api('GET', `${P}/sessions?limit=1&limit=2`), 400, 'query/limit');
    assertProblem(await api('GET', '/api/events?limit=100000'), 400, 'query/limit');
    for (const cursor of ['abc', 'not-base64!!', Buffer.from('hello').toString('base64url'), Buffer.from("' OR 1=1 --").toString('base64url'), '%00']) {
      const r = await api('GET', `${P}/sessions?cursor=${cursor}`);
      assertProblem(r, 400, 'query/cursor', cursor);
      assert.equal(r.json.code, 'invalid_cursor');
    }
    assertProblem(await api('GET', `${P}/sessions?cursor=${'A'.repeat(201)}`), 400, 'query/cursor');
    assertProblem(await api('GET', `${P}/sessions/${sessionId}/messages?cursor=abc`), 400, 'query/cursor');
    assertProblem(await api('GET', `${P}/sessions?bogus=1`), 400, 'query/bogus');
    assertProblem(await api('GET', `${P}/sessions?status=paused`), 400, 'query/status');
    assertProblem(await api('GET', `${P}/sanctions?active=maybe`), 400, 'query/active');
    assertProblem(await api('GET', '/api/events?since=-1'), 400, 'query/since');
    assertProblem(await api('GET', '/api/events?types=bogus.*'), 400, 'query/types');
    // An empty cursor is the first page.
    assert.equal((await api('GET', `${P}/sessions?cursor=`)).status, 200);
  });

  test('event stream: invalid Last-Event-ID, ?since and ?types=bogus.* are 400s before any stream opens', async () => {
    for (const id of ['abc', '-1', '1.5', '9'.repeat(16), '1e3', '0x10']) {
      const r = await readSse(`${s.url}/api/events/stream`, s.key, 0, undefined, { 'last-event-id': id });
      assert.equal(r.status, 400, `Last-Event-ID ${JSON.stringify(id)}: ${r.raw}`);
      assert.match(r.contentType, /^application\/problem\+json/);
      assert.equal(JSON.parse(r.raw).errors[0].field, 'header/last-event-id');
    }
    for (const [q, field] of [['types=bogus.*', 'query/types'], ['types=session.nope', 'query/types'], ['types=message.created,nope', 'query/types'], ['since=-5', 'query/since'], ['since=x', 'query/since'], ['foo=1', 'query/foo']]) {
      for (const path of ['/api/events/stream', `${P}/events/stream`]) {
        const r = await readSse(`${s.url}${path}?${q}`, s.key, 0);
        assert.equal(r.status, 400, `${path}?${q}: ${r.raw}`);
        assert.match(r.contentType, /^application\/problem\+json/);
        assert.equal(JSON.parse(r.raw).errors[0].field, field);
      }
    }
    // Valid ones stream.
    const ok = await readSse(`${s.url}/api/events/stream?types=message.*,session.created`, s.key, 50, undefined, { 'last-event-id': '0' });
    assert.equal(ok.status, 200);
    assert.ok(ok.events.length > 0 && ok.events.every((e) => e.type.startsWith('message.') || e.type === 'session.created'));
  });
});

describe('strings', () => {
  const NASTY = [
    'quotes " \' ` “ ” and \\" escaped',
    'backslashes \\ \\\\ \\n \\u0000 C:\\path\\to',
    'NUL\u0000in\u0000the\u0000middle\u0000',
    'control \u0001\u0007\b\f\n\r\t\u001f\u007f',
    'emoji 😀👩‍👩‍👧‍👦🏳️‍🌈 flags 🇯🇵 and ZWJ',
    'RTL \u202e override עברית العربية and combining e\u0301',
    '<script>alert(1)</script> {{x}} ${x} %s %n',
    "'; DROP TABLE messages; --",
    '\uFEFFBOM and \u2028 line sep \u2029',
    '𝕌𝕟𝕚𝕔𝕠𝕕𝕖 '.repeat(20),
  ];

  /** Truncates by code points, so no surrogate pair is split (a lone surrogate is a separate case below). */
  const cut = (str: string, n: number) => [...str].slice(0, n).join('');

  test('quotes, backslashes, NULs, emoji and long unicode are stored and read back byte-identical (or refused)', async () => {
    for (const str of NASTY) {
      const r = await api('POST', `${P}/sessions/${sessionId}/messages`, { body: { content: str, senderName: cut(str, 200) } });
      if (r.status >= 400) {
        assertProblem(r, r.status);
        continue;
      }
      assert.equal(r.status, 201);
      assert.equal(r.json.content, str);
      const back = await api('GET', `${P}/sessions/${sessionId}/messages/${r.json.id}`);
      assert.equal(back.json.content, str, `read back differs for ${JSON.stringify(str)}`);
      assert.equal(Buffer.compare(Buffer.from(back.json.content), Buffer.from(str)), 0);
      assert.equal(back.json.senderName, cut(str, 200));
    }
    // In other resources and JSON columns (keys too).
    for (const str of NASTY) {
      const sess = await api('POST', `${P}/sessions`, { body: { title: cut(str, 500), summary: str } });
      assert.equal(sess.status, 201);
      const got = (await api('GET', `${P}/sessions/${sess.json.id}`)).json;
      assert.equal(got.title, cut(str, 500));
      assert.equal(got.summary, str);
      // As JSON values, and as keys (keys with line terminators: see the test below).
      const data = { [str.replace(/[\n\r\u2028\u2029]/g, '_')]: str, nested: { arr: [str, 1, null, true], [str]: str } };
      const p = await api('POST', `${P}/participants`, { body: { externalUserId: `u-${Math.random()}`, displayName: cut(str, 256), userData: data } });
      assert.equal(p.status, 201);
      const pb = (await api('GET', `${P}/participants/${p.json.id}`)).json;
      assert.deepEqual(pb.userData, data);
      assert.equal(pb.displayName, cut(str, 256));
    }
  });

  test('very long unicode: 65 536 astral characters (4 bytes each) round-trip; one more is refused', async () => {
    const long = '😀'.repeat(65_536);
    const r = await api('POST', `${P}/sessions/${sessionId}/messages`, { body: { content: long } });
    assert.equal(r.status, 201, r.text.slice(0, 200));
    const back = await api('GET', `${P}/sessions/${sessionId}/messages/${r.json.id}`);
    assert.equal(back.json.content, long);
    assertProblem(await api('POST', `${P}/sessions/${sessionId}/messages`, { body: { content: long + '😀' } }), 400, 'body/content');
  });

  test('raw invalid UTF-8 in a JSON body is not a 500', async () => {
    const bytes = Buffer.concat([Buffer.from('{"content":"a'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('b"}')]);
    const r = await api('POST', `${P}/sessions/${sessionId}/messages`, { body: new Uint8Array(bytes), headers: JSON_CT });
    if (r.status === 201) {
      const back = await api('GET', `${P}/sessions/${sessionId}/messages/${r.json.id}`);
      assert.equal(back.json.content, r.json.content, 'what was acknowledged is what is stored');
    } else assertProblem(r, r.status);
  });

  test('object keys with line terminators in free-form JSON fields survive the response', async () => {
    const data = { 'line\nbreak': 1, 'cr\r': 2, 'ls\u2028': 3, plain: 4 };
    const p = await s.api('POST', `${P}/participants`, { body: { externalUserId: 'keys-nl', userData: data } });
    assert.equal(p.status, 201);
    const stored = s.cortex.db.prepare('SELECT user_data FROM participants WHERE id = ?').get(p.json.id) as { user_data: string };
    assert.deepEqual(JSON.parse(stored.user_data), data, 'stored intact');
    assert.deepEqual(p.json.userData, data, '201 body');
    assert.deepEqual((await s.api('GET', `${P}/participants/${p.json.id}`)).json.userData, data, 'GET body');
  });

  test('a lone surrogate (\\ud800) is refused or stored as sent', async () => {
    const str = 'a\ud800b\udc00c';
    const r = await s.api('POST', `${P}/sessions/${sessionId}/messages`, { body: { content: str } });
    if (r.status >= 400) return assertProblem(r, r.status);
    const back = await s.api('GET', `${P}/sessions/${sessionId}/messages/${r.json.id}`);
    assert.equal(back.json.content, str);
  });

  test('deeply nested JSON in a free-form field is a 4xx, not a 500', async () => {
    const n = 5000;
    const r = await s.api('POST', `${P}/participants`, {
      body: `{"externalUserId":"deep","userData":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`, headers: JSON_CT,
    });
    assert.ok(r.status < 500, `→ ${r.status}`);
  });

  test('a malformed percent-encoding in the URL is a problem+json', async () => {
    const r = await s.api('GET', `${P}/sessions/%E0%A4%A`);
    assert.ok(r.status === 400 || r.status === 404);
    assertProblem(r, r.status);
  });
});

describe('fuzz', () => {
  test('a few hundred random bodies against write routes never get a 5xx', async () => {
    let seed = 0xc0ffee;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const int = (n: number) => Math.floor(rand() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    const CHARS = ['a', 'Z', '0', ' ', '"', '\\', '\u0000', '\n', '😀', 'é', '\u202e', '{', '}', '%', '/', '\'', 'ctx_', '-', '.', ':'];
    const randStr = () => Array.from({ length: pick([0, 1, 3, 10, 40, 300]) }, () => pick(CHARS)).join('');
    const scalars = () => pick<unknown>([null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, '', 'x', randStr(), '2025-01-01T00:00:00Z', 'not-a-date', 'admin', 'joined']);
    const value = (depth = 0): unknown => {
      const r = int(10);
      if (depth > 3 || r < 6) return scalars();
      if (r < 8) return Array.from({ length: int(4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: int(4) }, () => [pick([randStr(), 'content', 'name', 'type', '__proto__', 'constructor']), value(depth + 1)]));
    };
    const routes: { method: string; path: () => string; base: Record<string, unknown> }[] = [
      { method: 'POST', path: () => `${P}/sessions`, base: { title: 't', idleTimeout: 60, start: true } },
      { method: 'PATCH', path: () => `${P}/sessions/${sessionId}`, base: { title: 't', summary: 's' } },
      { method: 'POST', path: () => `${P}/sessions/${sessionId}/messages`, base: { content: 'c', externalUserId: 'fz', type: 'user', language: 'en' } },
      { method: 'PATCH', path: () => `${P}/sessions/${sessionId}/messages/${messageId}`, base: { content: 'c', language: 'en' } },
      { method: 'POST', path: () => `${P}/sessions/${sessionId}/annotations`, base: { type: 'k', score: 0.5, content: { a: 1 } } },
      { method: 'POST', path: () => `${P}/participants`, base: { externalUserId: 'fz', displayName: 'd', userData: { a: 1 } } },
      { method: 'PATCH', path: () => `${P}/participants/${participantId}`, base: { displayName: 'd' } },
      { method: 'POST', path: () => `${P}/sanctions`, base: { type: 'mute', externalUserId: 'fz', durationSeconds: 60, reason: 'r' } },
      { method: 'POST', path: () => `${P}/gatherings`, base: { name: 'g', maxMembers: 3, accessPolicy: 'public' } },
      { method: 'PATCH', path: () => `${P}/gatherings/${gatheringId}`, base: { name: 'g', listed: false } },
      { method: 'POST', path: () => `${P}/gatherings/${gatheringId}/members`, base: { externalUserId: 'fz', role: 'member' } },
      { method: 'PATCH', path: () => `${P}/gatherings/${gatheringId}/members/${memberId}`, base: { role: 'member' } },
      { method: 'POST', path: () => '/api/keys', base: { name: 'k', scopes: ['sessions'] } },
      { method: 'POST', path: () => '/api/projects', base: { name: 'p' } },
    ];
    const counts = { total: 0, ok: 0, client: 0 };
    for (let i = 0; i < 420; i++) {
      const route = pick(routes);
      const mode = int(5);
      const o: ApiOptions = { headers: {} };
      if (mode === 0) {
        // Random garbage bytes, sometimes claiming to be JSON.
        o.body = new Uint8Array(Array.from({ length: pick([0, 1, 7, 64, 1000]) }, () => int(256)));
        if (rand() < 0.7) o.headers!['content-type'] = pick(['application/json', 'application/json; charset=latin1', 'application/octet-stream', 'text/html']);
      } else if (mode === 1) {
        o.body = value(); // any JSON value at all
        if (o.body === null || typeof o.body !== 'object') {
          o.body = JSON.stringify(o.body);
          o.headers!['content-type'] = 'application/json';
        }
      } else {
        // A valid body with one or two fields replaced or added.
        const body: Record<string, unknown> = { ...route.base };
        for (let k = 0; k < 1 + int(2); k++) body[rand() < 0.8 ? pick(Object.keys(body)) : randStr()] = value(1);
        o.body = body;
      }
      if (rand() < 0.1) o.headers!['idempotency-key'] = `fz-${int(5)}`;
      const path = route.path();
      const r = await api(route.method, path, o); // asserts < 500
      counts.total++;
      if (r.status < 300) counts.ok++;
      else {
        counts.client++;
        assertProblem(r, r.status, undefined, `fuzz #${i} ${route.method} ${path} ${String(o.body instanceof Uint8Array ? '<bytes>' : JSON.stringify(o.body)).slice(0, 200)}`);
      }
    }
    assert.equal(counts.total, 420);
    assert.ok(counts.ok > 10 && counts.client > 100, `fuzz mix: ${JSON.stringify(counts)}`);
  });
});

describe('aftermath', () => {
  test('no 5xx anywhere, every error is problem+json with type,title,status,code; health still 200', async () => {
    assert.ok(seen.length > 500, `only ${seen.length} responses audited`);
    for (const { where, res } of seen) {
      assert.ok(res.status < 500, `${where} → ${res.status}`);
      if (res.status >= 400) assertProblem(res, res.status, undefined, where);
    }
    const h = await s.api('GET', '/api/health', { key: null });
    assert.equal(h.status, 200);
    assert.equal(h.json.status, 'ok');
    // And the fixtures are intact.
    assert.equal((await s.api('GET', `${P}/sessions/${sessionId}`)).status, 200);
  });
});
