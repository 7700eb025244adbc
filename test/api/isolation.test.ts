/**
 * Tenant isolation, route by route: tenant `other` (its own admin key) hits every path and
 * method of the OpenAPI document with the ids of tenant `local`'s resources, and never gets
 * a 2xx nor a byte of `local`'s data. Event reads and SSE streams never carry `local` events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertProblem, eventsSince, lastSeq, makeOtherTenant, P, readSse, startServer, type J, type Server } from './helpers.js';

let s: Server;
let otherKey: string;
/** Path parameter → `local`'s resource id. */
const ids: Record<string, string> = {};
/** Strings only `local` wrote: must never appear in a response to `other`. */
const SECRETS = ['LOCAL-SECRET-title', 'LOCAL-SECRET-message', 'local-secret-user', 'LOCAL-SECRET-reason', 'LOCAL-SECRET-gathering', 'LOCAL-SECRET-annotation', 'LOCAL-SECRET-webhook'];

before(async () => {
  s = await startServer();
  otherKey = makeOtherTenant(s.cortex);
  const ok = async (method: string, path: string, body: unknown) => {
    const r = await s.api(method, path, { body });
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.text}`);
    return r.json;
  };
  ids.sessionId = (await ok('POST', `${P}/sessions`, { title: SECRETS[0] })).id;
  ids.ruleId = (await ok('POST', `${P}/automod/rules`, { name: 'flag toxicity', when: { annotationType: 'toxicity' }, then: { review: { priority: 'high' } } })).id;
  const msg = await ok('POST', `${P}/sessions/${ids.sessionId}/messages`, { content: SECRETS[1], externalUserId: SECRETS[2] });
  ids.messageId = msg.id;
  ids.participantId = msg.participantId;
  ids.sanctionId = (await ok('POST', `${P}/sanctions`, { type: 'mute', participantId: ids.participantId, reason: SECRETS[3] })).id;
  ids.gatheringId = (await ok('POST', `${P}/gatherings`, { name: SECRETS[4] })).id;
  ids.memberId = (await ok('POST', `${P}/gatherings/${ids.gatheringId}/members`, { externalUserId: SECRETS[2] })).id;
  ids.annotationId = (await ok('POST', `${P}/sessions/${ids.sessionId}/messages/${ids.messageId}/annotations`, { type: 'toxicity', content: { label: SECRETS[5] } })).id;
  ids.sessionAnnotationId = (await ok('POST', `${P}/sessions/${ids.sessionId}/annotations`, { type: 'summary', content: { label: SECRETS[5] } })).id;
  await ok('POST', `${P}/plugins`, { pluginId: 'keywords', settings: { phrases: [SECRETS[5]] } });
  ids.keyId = (await ok('POST', '/api/keys', { name: 'local-key', scopes: ['sessions'] })).id;
  ids.webhookId = (await ok('POST', `${P}/webhooks`, { url: 'http://127.0.0.1:9/hook', events: ['*'], description: SECRETS[6] })).id;
  ids.deliveryId = (await ok('POST', `${P}/webhooks/${ids.webhookId}/test`, undefined)).id;
  // The toxicity annotation above opens a review item (automod evaluates it asynchronously).
  for (const end = Date.now() + 10_000; !ids.itemId; await new Promise((r) => setTimeout(r, 10))) {
    assert.ok(Date.now() < end, 'no review item was opened');
    ids.itemId = (await ok('GET', `${P}/review`, undefined)).items[0]?.id;
  }
});
after(() => s.close());

/** A body that would pass validation for each (method, path template), so the 404 is not a 400. */
function bodyFor(method: string, template: string): unknown {
  const t = template.replace(/^\/api\/projects\/\{projectId\}/, '');
  const k = `${method.toUpperCase()} ${t}`;
  const bodies: Record<string, unknown> = {
    'POST /api/projects': { name: 'other project' },
    'POST /api/keys': { name: 'k', scopes: ['sessions'], projectId: 'default' },
    'POST /sessions': { title: 'x' },
    'PATCH /sessions/{sessionId}': { title: 'HIJACKED' },
    'POST /sessions/{sessionId}/participants': { participantId: ids.participantId },
    'POST /sessions/{sessionId}/messages': { content: 'HIJACKED', participantId: ids.participantId },
    'PATCH /sessions/{sessionId}/messages/{messageId}': { content: 'HIJACKED' },
    'POST /sessions/{sessionId}/annotations': { type: 'x' },
    'POST /sessions/{sessionId}/messages/{messageId}/annotations': { type: 'x' },
    'POST /participants': { externalUserId: 'o-user' },
    'PATCH /participants/{participantId}': { displayName: 'HIJACKED' },
    'POST /sanctions': { type: 'warn', participantId: ids.participantId, sessionId: ids.sessionId },
    'POST /sanctions/{sanctionId}/revoke': {},
    'POST /gatherings': { name: 'g' },
    'PATCH /gatherings/{gatheringId}': { name: 'HIJACKED', status: 'ended' },
    'POST /gatherings/{gatheringId}/members': { externalUserId: 'o-user' },
    'PATCH /gatherings/{gatheringId}/members/{memberId}': { state: 'left' },
    'POST /webhooks': { url: 'http://127.0.0.1:9/other', events: ['*'] },
    'PATCH /webhooks/{webhookId}': { url: 'http://127.0.0.1:9/HIJACKED' },
    'POST /webhooks/{webhookId}/rotate-secret': {},
    'POST /webhooks/{webhookId}/redeliver': { status: 'exhausted' },
    'POST /api/models/import': { path: '/nonexistent/model.bin' },
    'PATCH /bot-settings': { language: 'fr' },
    'POST /api/models/download': { name: 'no-such-model' },
    'POST /automod/rules': { name: 'r', when: { annotationType: 'toxicity' }, then: { sanction: { type: 'perm_ban' } } },
    'PATCH /automod/rules/{ruleId}': { name: 'HIJACKED', enabled: false },
    'POST /automod/rules/test': { when: { annotationType: 'toxicity' }, then: { review: { priority: 'low' } } },
    'POST /plugins': { pluginId: 'keywords' },
    'PATCH /plugins/{pluginId}': { enabled: false },
    'POST /review/{itemId}/resolve': { decision: 'sanction', sanction: { type: 'perm_ban' } },
  };
  return bodies[k];
}

function assertNoLeak(text: string, where: string): void {
  for (const [name, id] of Object.entries(ids)) assert.ok(!text.includes(id), `${where} leaks ${name} ${id}: ${text.slice(0, 300)}`);
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} leaks "${secret}"`);
}

describe('tenant isolation', () => {
  test('every OpenAPI route × method, with local ids, answers 404/403 to the other tenant and leaks nothing', async () => {
    const doc = (await s.api('GET', '/api/openapi.json', { key: null })).json;
    const paths = Object.entries(doc.paths as Record<string, Record<string, J>>);
    assert.ok(paths.length >= 25, `expected the whole API in the document, got ${paths.length} paths`);
    let checked = 0;
    for (const [template, ops] of paths) {
      for (const method of Object.keys(ops)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        const params = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
        const isStream = template.endsWith('/events/stream');
        // projectId: local's `default`, and other's own project (so only the resource ids are foreign).
        const projects = params.includes('projectId') ? ['default', 'other-proj'] : [null];
        for (const projectId of projects) {
          // With only a projectId, other's own project is other's own data: nothing foreign to probe.
          if (projectId === 'other-proj' && params.length === 1) continue;
          const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
            if (name === 'projectId') return projectId!;
            // Models are per install, not per tenant: their names are nothing of local's to probe.
            // Plugin ids are catalog names (public); local has `keywords` installed.
            // Topics belong to the install's data plane, not to a tenant: none of local's to probe.
            const id = name === 'name' ? 'no-such-model' : name === 'pluginId' ? 'keywords' : name === 'topic' ? 'no-such-topic' : ids[name];
            assert.ok(id, `no local id for path param ${name} (${template})`);
            return id;
          });
          const where = `${method.toUpperCase()} ${path}`;
          if (isStream && params.length === 0) continue; // the tenant-wide stream is read below
          const body = bodyFor(method, template);
          if (ops[method].requestBody) assert.ok(body !== undefined, `no body for ${where}`);
          const r = await s.api(method.toUpperCase(), path, { key: otherKey, body });
          checked++;
          assertNoLeak(r.text, where);
          if (params.length === 0) {
            // Collection routes outside any project (/api/projects, /api/keys, /api/events, /api/health):
            // they answer for other's own tenant.
            assert.ok(r.status < 500, `${where} → ${r.status}`);
            if (template === '/api/keys' && method === 'post') {
              assertProblem(r, 404, undefined, `${where} (key for local's project)`);
            }
            continue;
          }
          // A topic echo with the data plane off (as here) is a 409 before any lookup.
          const dataPlaneOff = template.startsWith('/api/topics/') && r.status === 409;
          assert.ok(r.status === 404 || r.status === 403 || dataPlaneOff, `${where} → ${r.status} ${r.text.slice(0, 200)}`);
          assertProblem(r, r.status, undefined, where);
        }
      }
    }
    assert.ok(checked >= 60, `only ${checked} requests checked`);

    // Nothing of local changed.
    const sess = await s.api('GET', `${P}/sessions/${ids.sessionId}`);
    assert.equal(sess.json.title, SECRETS[0]);
    assert.equal(sess.json.status, 'active');
    const msg = await s.api('GET', `${P}/sessions/${ids.sessionId}/messages/${ids.messageId}`);
    assert.equal(msg.json.content, SECRETS[1]);
    assert.equal((await s.api('GET', `${P}/sanctions/${ids.sanctionId}`)).json.status, 'active');
    const g = await s.api('GET', `${P}/gatherings/${ids.gatheringId}`);
    assert.equal(g.json.name, SECRETS[4]);
    assert.equal(g.json.memberCount, 1);
    const key = (await s.api('GET', '/api/keys')).json.items.find((k: { id: string }) => k.id === ids.keyId);
    assert.equal(key.revokedAt, null);
    assert.equal((await s.api('GET', `${P}/participants/${ids.participantId}`)).json.displayName, null);
    const hook = (await s.api('GET', `${P}/webhooks/${ids.webhookId}`)).json;
    assert.equal(hook.url, 'http://127.0.0.1:9/hook');
    assert.equal(hook.rotatingUntil, null);
    assert.equal((await s.api('GET', `${P}/automod/rules/${ids.ruleId}`)).json.enabled, true);
    assert.equal((await s.api('GET', `${P}/plugins/keywords`)).json.enabled, true);
    assert.equal((await s.api('GET', `${P}/review/${ids.itemId}`)).json.status, 'open');
  });

  test('other tenant\'s own resources cannot reference local ids in bodies', async () => {
    const op = '/api/projects/other-proj';
    const own = await s.api('POST', `${op}/sessions`, { key: otherKey, body: { title: 'mine' } });
    assert.equal(own.status, 201);
    const sid = own.json.id;
    const cases: [string, string, unknown, string][] = [
      ['POST', `${op}/sessions/${sid}/messages`, { content: 'x', participantId: ids.participantId }, 'body/participantId'],
      ['POST', `${op}/sessions/${sid}/participants`, { participantId: ids.participantId }, 'body/participantId'],
      ['POST', `${op}/sanctions`, { type: 'warn', participantId: ids.participantId }, 'body/participantId'],
      ['POST', `${op}/sanctions`, { type: 'warn', externalUserId: 'o', sessionId: ids.sessionId }, ''],
      ['GET', `${op}/sessions/${sid}/messages/${ids.messageId}`, undefined, 'params/messageId'],
      ['GET', `${op}/sessions/${sid}/messages/${ids.messageId}/annotations`, undefined, 'params/messageId'],
      ['DELETE', `${op}/sessions/${sid}/participants/${ids.participantId}`, undefined, 'params/participantId'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await s.api(method, path, { key: otherKey, body });
      assertProblem(r, 404, field || undefined, `${method} ${path}`);
      assertNoLeak(r.text, `${method} ${path}`);
    }
    // The local participant got no sanction, no message and no membership from other.
    const sanctions = (await s.api('GET', `${P}/sanctions?participantId=${ids.participantId}`)).json.items;
    assert.equal(sanctions.length, 1);
    const otherList = await s.api('GET', `${op}/sessions`, { key: otherKey });
    assert.deepEqual(otherList.json.items.map((x: { id: string }) => x.id), [sid]);
    assertNoLeak(otherList.text, 'other session list');
  });

  test('/api/events and SSE streams of the other tenant never carry local events', async () => {
    const before = await eventsSince(s.api, 0, otherKey);
    assert.ok(before.every((e) => e.tenantId === 'other'));
    assertNoLeak(JSON.stringify(before), '/api/events');
    const localEvents = await eventsSince(s.api, 0);
    assert.ok(localEvents.length > 5 && localEvents.every((e) => e.tenantId === 'local'));

    const write = async () => {
      const r = await s.api('POST', `${P}/sessions/${ids.sessionId}/messages`, { body: { content: `${SECRETS[1]}-live` } });
      assert.equal(r.status, 201);
    };
    const seq = await lastSeq(s.api);
    // Tenant-wide stream with full replay (since=0), project stream, and a live-only stream; plus local's own as a control.
    const [wide, project, live, control] = await Promise.all([
      readSse(`${s.url}/api/events/stream?since=0`, otherKey, 500, write),
      readSse(`${s.url}/api/projects/other-proj/events/stream?since=0`, otherKey, 500),
      readSse(`${s.url}/api/events/stream`, otherKey, 500),
      readSse(`${s.url}${P}/events/stream?types=message.*&since=${seq}`, s.key, 500),
    ]);
    for (const [name, r] of Object.entries({ wide, project, live })) {
      assert.equal(r.status, 200, name);
      assert.match(r.contentType, /^text\/event-stream/);
      assert.ok(r.events.every((e) => e.tenantId === 'other'), `${name} carried another tenant's event`);
      assertNoLeak(r.raw, `SSE ${name}`);
    }
    assert.ok(wide.events.length >= 2, 'the other tenant sees its own events (session created/started)');
    assert.ok(control.events.some((e) => e.type === 'message.created' && JSON.stringify(e).includes(`${SECRETS[1]}-live`)), 'control stream saw the local write');

    // Other's stream on local's project is a 404, not a stream.
    const denied = await readSse(`${s.url}${P}/events/stream?since=0`, otherKey, 0);
    assert.equal(denied.status, 404);
    assertNoLeak(denied.raw, 'denied stream');
    // And the paged log after the write still has nothing of local.
    const after = await eventsSince(s.api, 0, otherKey);
    assert.ok(after.every((e) => e.tenantId === 'other'));
    assertNoLeak(JSON.stringify(after), '/api/events after');
  });
});
