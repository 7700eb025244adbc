/**
 * Plugins end to end, with messages posted through the real REST API: the catalog (built-ins and
 * the README's example plugin loaded from a plugins folder), settings validation, annotations,
 * a hanging, a crashing and a leaking plugin (stopped, recorded, restarted) next to built-ins
 * that keep annotating, PII redaction, and session summaries.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertProblem, eventsSince, lastSeq, P, startServer, until, type J, type Server } from '../api/helpers.js';

const README = new URL('../../README.md', import.meta.url);

/** The example plugin exactly as the README shows it. */
async function readmeExample(): Promise<string> {
  const text = await readFile(README, 'utf8');
  const m = /<!-- example-plugin -->\s*```js\n([\s\S]*?)```/.exec(text);
  assert.ok(m, 'README has the example plugin block');
  return m[1]!;
}

const plugin = (id: string, body: string, events = "['message.created']") => `
export const manifest = { id: '${id}', name: '${id}', version: '0.0.1', events: ${events}, settingsSchema: { type: 'object', properties: {} } };
export async function handle(event, ctx) {
  const text = event.payload.data.content ?? '';
  ${body}
}`;

let s: Server;
let pluginsDir: string;
let session: string;

async function post(content: string, externalUserId = 'u1', sid = session): Promise<J> {
  const r = await s.api('POST', `${P}/sessions/${sid}/messages`, { body: { content, externalUserId } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function annotationsOf(messageId: string, sid = session): Promise<J[]> {
  return (await s.api('GET', `${P}/sessions/${sid}/messages/${messageId}`)).json.annotations;
}

async function install(body: J): Promise<J> {
  const r = await s.api('POST', `${P}/plugins`, { body });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

const status = async (id: string): Promise<J> => (await s.api('GET', `${P}/plugins/${id}/status`)).json;

before(async () => {
  pluginsDir = await mkdtemp(join(tmpdir(), 'cx-plugins-'));
  await writeFile(join(pluginsDir, 'word-watch.mjs'), await readmeExample());
  // Hangs forever (a busy loop: only the watchdog can stop it).
  await writeFile(join(pluginsDir, 'hang.mjs'), plugin('hang', "if (text.includes('hang')) for (;;) {} return [{ type: 'seen-by-hang' }];"));
  // Crashes its worker on 'crash' (exits the thread), and throws on 'boom'.
  await writeFile(join(pluginsDir, 'crash.mjs'), plugin('crash', "if (text.includes('crash')) process.exit(3); if (text.includes('boom')) throw new Error('boom'); return [{ type: 'seen-by-crash' }];"));
  // Leaks until it runs out of heap.
  await writeFile(join(pluginsDir, 'leak.mjs'), plugin('leak', "if (text.includes('leak')) { const hoard = []; for (;;) hoard.push(new Array(1e5).fill(text)); } return [];"));
  await writeFile(join(pluginsDir, 'broken.mjs'), 'export const manifest = {;');
  await writeFile(join(pluginsDir, 'bad-manifest.mjs'), plugin('bad-manifest', 'return;', "['webhook.created']"));
  s = await startServer({ pluginsDir, pluginTimeoutMs: 400, pluginMemoryMb: 32 });
  session = (await s.api('POST', `${P}/sessions`, { body: { title: 'plugins' } })).json.id;
});
after(async () => {
  await s.close();
  await rm(pluginsDir, { recursive: true, force: true });
});

describe('catalog and installation', () => {
  test('GET /api/plugins lists the built-ins and the plugins folder, and names files that failed', async () => {
    const r = await s.api('GET', '/api/plugins');
    assert.equal(r.status, 200);
    const ids = r.json.items.map((p: J) => p.id);
    for (const id of ['toxicity', 'keywords', 'pii', 'flood', 'summary', 'word-watch', 'hang', 'crash', 'leak']) assert.ok(ids.includes(id), `${id} in catalog`);
    const ww = r.json.items.find((p: J) => p.id === 'word-watch');
    assert.equal(ww.builtin, false);
    assert.deepEqual(ww.events, ['message.created']);
    assert.equal(ww.settingsSchema.properties.words.type, 'array');
    const tox = r.json.items.find((p: J) => p.id === 'toxicity');
    assert.equal(tox.builtin, true);
    const problems = r.json.problems.map((p: J) => `${p.path.split('/').at(-1)}: ${p.error}`);
    assert.ok(problems.some((p: string) => p.startsWith('broken.mjs')), problems.join('\n'));
    assert.ok(problems.some((p: string) => p.startsWith('bad-manifest.mjs') && p.includes('webhook.created')), problems.join('\n'));
  });

  test('bad input → 4xx problem+json naming the field', async () => {
    assertProblem(await s.api('POST', `${P}/plugins`, { body: { pluginId: 'nope' } }), 404, 'body/pluginId');
    assertProblem(await s.api('POST', `${P}/plugins`, { body: { pluginId: 'word-watch', settings: { words: 'banana' } } }), 400, 'body/settings/words');
    assertProblem(await s.api('POST', `${P}/plugins`, { body: { pluginId: 'word-watch', settings: { colour: 'red' } } }), 400, 'body/settings/colour');
    assertProblem(await s.api('POST', `${P}/plugins`, { body: { pluginId: 'toxicity', settings: { minScore: 3 } } }), 400, 'body/settings/minScore');
    // Regexes that would backtrack catastrophically are refused before they ever run.
    for (const pattern of ['(a+)+$', '(x+x+)+y', '(a|a)*b', '(a)\\1']) {
      assertProblem(await s.api('POST', `${P}/plugins`, { body: { pluginId: 'keywords', settings: { patterns: [{ pattern: 'ok' }, { pattern }] } } }), 400, 'body/settings/patterns/1/pattern');
    }
    assertProblem(await s.api('POST', `${P}/plugins`, { body: { pluginId: 'keywords', settings: { patterns: [{ pattern: '(' }] } } }), 400, 'body/settings/patterns/0/pattern');
    assertProblem(await s.api('POST', `${P}/plugins`, { body: { pluginId: 'keywords', extra: 1 } }), 400);
    assertProblem(await s.api('GET', `${P}/plugins/keywords`), 404, 'params/pluginId');
  });

  test('install, read, update and uninstall; settings get their defaults; events say so', async () => {
    const since = await lastSeq(s.api);
    const inst = await install({ pluginId: 'keywords', settings: { phrases: ['free vbucks'] } });
    assert.deepEqual(inst.settings.phrases, ['free vbucks']);
    assert.equal(inst.settings.severity, 'medium', 'default applied');
    assert.equal(inst.enabled, true);
    assertProblem(await s.api('POST', `${P}/plugins`, { body: { pluginId: 'keywords' } }), 409, 'body/pluginId');
    const patched = await s.api('PATCH', `${P}/plugins/keywords`, { body: { settings: { phrases: ['free vbucks'], patterns: [{ pattern: 'discord\\.gg/\\w+' }] } } });
    assert.equal(patched.status, 200, patched.text);
    assertProblem(await s.api('PATCH', `${P}/plugins/keywords`, { body: { settings: { patterns: [{ pattern: '(a+)+' }] } } }), 400, 'body/settings/patterns/0/pattern');
    const m = await post('join discord.gg/abc for FREE vbucks');
    const [a] = await until(async () => (await annotationsOf(m.id)).filter((x: J) => x.pluginId === 'keywords').at(0) && annotationsOf(m.id), 'keyword annotation');
    assert.equal(a.type, 'keyword');
    assert.equal(a.targetType, 'message');
    assert.equal(a.targetId, m.id);
    assert.equal(a.severity, 'medium');
    assert.deepEqual(a.content.matches.map((x: J) => x.keyword).sort(), ['discord\\.gg/\\w+', 'free vbucks']);
    assert.equal((await s.api('DELETE', `${P}/plugins/keywords`)).status, 204);
    assertProblem(await s.api('GET', `${P}/plugins/keywords/status`), 404, 'params/pluginId');
    const types = (await eventsSince(s.api, since)).map((e) => e.type);
    for (const t of ['plugin.installed', 'plugin.updated', 'message.annotation.created', 'plugin.uninstalled']) assert.ok(types.includes(t as never), t);
  });
});

describe('runtime', () => {
  test('the README example plugin annotates through ctx (settings, recentMessages, log)', async () => {
    await install({ pluginId: 'word-watch', settings: { words: ['banana'], severity: 'high' } });
    await post('first message', 'ww-speaker');
    await post('someone else', 'ww-other');
    const m = await post('I like Banana bread', 'ww-speaker');
    const clean = await post('apples only', 'ww-speaker');
    const a = await until(async () => (await annotationsOf(m.id)).find((x: J) => x.pluginId === 'word-watch'), 'word-watch annotation');
    assert.equal(a.type, 'word-watch');
    assert.equal(a.severity, 'high');
    assert.deepEqual(a.content.categories, ['banana']);
    assert.equal(a.content.speakerMessages, 2, 'recentMessages sees this speaker up to this message');
    await until(async () => (await status('word-watch')).backlog === 0 && (await status('word-watch')).processed >= 3, 'word-watch caught up');
    assert.deepEqual(await annotationsOf(clean.id), []);
  });

  test('a hanging, a crashing and a leaking plugin are stopped, recorded and restarted; built-ins keep annotating; the core keeps serving', async () => {
    await install({ pluginId: 'toxicity' });
    await install({ pluginId: 'hang' });
    await install({ pluginId: 'crash' });
    await install({ pluginId: 'leak' });
    const since = await lastSeq(s.api);
    await post('please hang now');
    await post('crash now');
    await post('boom');
    await post('leak now');
    const started = Date.now();
    const toxic = [];
    for (let i = 0; i < 5; i++) {
      toxic.push(await post(`you are a f u c k i n g idiot ${i}`));
      assert.equal((await s.api('GET', '/api/health')).status, 200, 'the core keeps serving');
    }
    for (const m of toxic) {
      const a = await until(async () => (await annotationsOf(m.id)).find((x: J) => x.pluginId === 'toxicity'), 'toxicity annotation');
      assert.ok(a.score >= 0.5, `score ${a.score}`);
    }
    assert.ok(Date.now() - started < 8_000, 'built-ins were not held up by the broken plugins');
    const hang = await until(async () => {
      const st = await status('hang');
      return st.recentErrors.some((e: J) => e.kind === 'timeout') && st.restarts >= 1 && st;
    }, 'hang plugin timed out and restarted', 30_000);
    assert.match(hang.recentErrors.find((e: J) => e.kind === 'timeout').message, /longer than 400 ms/);
    const crash = await until(async () => {
      const st = await status('crash');
      const kinds = st.recentErrors.map((e: J) => e.kind);
      return kinds.includes('crashed') && kinds.includes('threw') && st;
    }, 'crash plugin recorded', 30_000);
    assert.ok(crash.restarts >= 2);
    assert.match(crash.recentErrors.find((e: J) => e.kind === 'crashed').message, /exited with code 3/);
    assert.ok(crash.recentErrors.find((e: J) => e.kind === 'threw').message.includes('boom'));
    await until(async () => (await status('leak')).recentErrors.some((e: J) => e.kind === 'out_of_memory'), 'leak plugin ran out of memory', 20_000);
    // Poison events are skipped after three attempts, so the broken plugins get past them and keep working.
    const after = await post('an ordinary message');
    await until(async () => (await annotationsOf(after.id)).some((x: J) => x.pluginId === 'hang'), 'hang plugin past its poison event', 30_000);
    await until(async () => (await annotationsOf(after.id)).some((x: J) => x.pluginId === 'crash'), 'crash plugin past its poison events', 30_000);
    const hangStatus = await status('hang');
    assert.ok(hangStatus.recentErrors.some((e: J) => e.kind === 'skipped'), 'the skip is recorded');
    const errors = (await eventsSince(s.api, since)).filter((e) => e.type === 'plugin.error');
    assert.ok(errors.some((e: J) => e.payload.data.pluginId === 'hang' && e.payload.data.kind === 'timeout'));
    assert.ok(errors.some((e: J) => e.payload.data.pluginId === 'crash' && e.payload.data.kind === 'crashed'));
    for (const id of ['hang', 'crash', 'leak']) assert.equal((await s.api('DELETE', `${P}/plugins/${id}`)).status, 204);
  });

  test('pii with redaction: the stored text and the logged event no longer hold the original', async () => {
    await install({ pluginId: 'pii', settings: { redact: true } });
    const since = await lastSeq(s.api);
    const m = await post('mail me at jane.doe@example.com or card 4111 1111 1111 1111');
    const a = await until(async () => (await annotationsOf(m.id)).find((x: J) => x.pluginId === 'pii'), 'pii annotation');
    assert.deepEqual([...a.content.categories].sort(), ['card', 'email']);
    assert.ok(!JSON.stringify(a).includes('jane.doe@example.com'), 'annotation holds only masked values');
    const stored = (await s.api('GET', `${P}/sessions/${session}/messages/${m.id}`)).json;
    assert.equal(stored.content, 'mail me at [email] or card [card]');
    const log = await eventsSince(s.api, since - 1);
    const created = log.find((e: J) => e.type === 'message.created' && e.payload.data.id === m.id) as J;
    assert.equal(created.payload.data.content, 'mail me at [email] or card [card]', 'the log was scrubbed');
    assert.ok(log.some((e: J) => e.type === 'message.redacted' && e.payload.data.id === m.id));
    assert.ok(!JSON.stringify(log).includes('4111 1111 1111 1111'));
    assert.equal((await s.api('DELETE', `${P}/plugins/pii`)).status, 204);
  });

  test('summary: written onto the session when it ends, and regenerated on request', async () => {
    assertProblem(await s.api('POST', `${P}/sessions/${session}/summary/regenerate`), 409, 'params/sessionId');
    await install({ pluginId: 'summary', settings: { maxSentences: 2 } });
    const sid = (await s.api('POST', `${P}/sessions`, { body: { title: 'raid night' } })).json.id;
    await post('We should attack the north tower at nine tonight.', 'lead', sid);
    await post('ok', 'u2', sid);
    await post('The north tower has two guards and a healer at nine.', 'scout', sid);
    await post('lol', 'u3', sid);
    assert.equal((await s.api('POST', `${P}/sessions/${sid}/stop`)).status, 200);
    const summarized: string = await until(async () => (await s.api('GET', `${P}/sessions/${sid}`)).json.summary, 'summary on the session');
    assert.match(summarized, /north tower/);
    assert.ok(!summarized.includes('lol'));
    assert.equal(summarized.split('\n').length, 2, summarized);
    assert.equal((await s.api('PATCH', `${P}/plugins/summary`, { body: { settings: { maxSentences: 1 } } })).status, 200);
    const r = await s.api('POST', `${P}/sessions/${sid}/summary/regenerate`);
    assert.equal(r.status, 202, r.text);
    const shorter: string = await until(async () => {
      const now = (await s.api('GET', `${P}/sessions/${sid}`)).json.summary as string;
      return now !== summarized && now;
    }, 'regenerated summary');
    assert.equal(shorter.split('\n').length, 1, shorter);
    assert.ok(summarized.includes(shorter), 'the best sentence stays');
    const sessionAnnotations = (await s.api('GET', `${P}/sessions/${sid}/annotations`)).json.items;
    assert.ok(sessionAnnotations.filter((a: J) => a.type === 'summary' && a.targetType === 'session').length >= 2);
  });
});
