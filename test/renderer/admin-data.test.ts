/** The overview's and models view's cache updates from events (pure functions, no browser). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DomainEvent } from '../../common/events.js';
import type { Annotation, Session } from '../../common/schemas.js';
import { applyModelEvent, type ModelsOverview } from '../../renderer/src/features/models/modelsData.js';
import { applyToActive, applyToFlagged, heardFromMessage, mergeHeard, type Paged } from '../../renderer/src/features/overview/overviewData.js';

let seq = 0;
const ev = (type: DomainEvent['type'], data: Record<string, unknown>): DomainEvent => ({
  id: `e${++seq}`, seq, type, source: 'api', tenantId: 'local', projectId: 'default', resourceId: 'x', timestamp: '2026-01-01T00:00:00.000Z',
  payload: { action: 'occurred', data },
});
const session = (id: string, status: 'active' | 'ended', createdAt: string): Session => ({
  id, tenantId: 'local', projectId: 'default', externalRoomId: null, gateway: null, title: id, status, idleTimeout: null, createdByUserId: null,
  createdAt, startedAt: createdAt, endedAt: null, summary: null, adapter: null, adapterConfig: null,
});

test('active sessions: created/started join (newest first), ended/deleted leave, others are ignored', () => {
  let page: Paged<Session> = { items: [session('a', 'active', '2026-01-01T00:00:01Z')], nextCursor: null };
  page = applyToActive(page, ev('session.created', session('b', 'active', '2026-01-01T00:00:02Z')))!;
  assert.deepEqual(page.items.map((s) => s.id), ['b', 'a']);
  assert.equal(applyToActive(page, ev('session.created', session('c', 'ended', '2026-01-01T00:00:03Z'))), undefined);
  page = applyToActive(page, ev('session.ended', session('a', 'ended', '2026-01-01T00:00:01Z')))!;
  assert.deepEqual(page.items.map((s) => s.id), ['b']);
  page = applyToActive(page, ev('session.deleted', { id: 'b' }))!;
  assert.deepEqual(page.items, []);
  assert.equal(applyToActive(page, ev('session.annotation.created', { id: 'z' })), undefined);
  assert.equal(applyToActive(page, ev('session.updated', { status: 'active' })), null);
});

test('flagged: only scored message annotations at or above the threshold, once, newest first', () => {
  const a = (id: string, score: number | null) => ({ id, score, type: 'toxicity', targetType: 'message' }) as Annotation;
  let page: Paged<Annotation> = { items: [a('1', 0.9)], nextCursor: null };
  assert.equal(applyToFlagged(page, ev('message.annotation.created', a('2', 0.2))), undefined);
  assert.equal(applyToFlagged(page, ev('message.annotation.created', a('3', null))), undefined);
  page = applyToFlagged(page, ev('message.annotation.created', a('4', 0.5)))!;
  assert.deepEqual(page.items.map((x) => x.id), ['4', '1']);
  assert.equal(applyToFlagged(page, ev('message.annotation.created', a('4', 0.5))), undefined);
});

test('last heard: the latest per speaker, newest first', () => {
  const m = (participantId: string, timestamp: string, senderName: string | null = null) =>
    heardFromMessage({ id: 'm', sessionId: 's', participantId, type: 'user', senderName, content: 'hi', timestamp, language: null, hasDebugAudio: false })!;
  const list = mergeHeard([m('p1', '2026-01-01T00:00:01Z', 'Ann')], [m('p2', '2026-01-01T00:00:02Z'), m('p1', '2026-01-01T00:00:03Z')]);
  assert.deepEqual(list.map((h) => [h.name, h.at]), [['Ann', '2026-01-01T00:00:03Z'], ['participant …p2', '2026-01-01T00:00:02Z']]);
  assert.equal(heardFromMessage({ id: 'm', sessionId: 's', participantId: null, type: 'system', senderName: null, content: 'x', timestamp: 't', language: null, hasDebugAudio: false }), null);
});

test('models: download events move a model from downloading to installed, or drop it on failure', () => {
  let o: ModelsOverview = { dir: '/m', items: [], catalog: [{ name: 'tiny.en', sizeMiB: 75, multilingual: false, installed: false }], downloads: [] };
  o = applyModelEvent(o, ev('model.download.started', { name: 'tiny.en' }))!;
  assert.deepEqual(o.downloads.map((d) => [d.name, d.receivedBytes]), [['tiny.en', 0]]);
  o = applyModelEvent(o, ev('model.download.progress', { name: 'tiny.en', receivedBytes: 10, totalBytes: 100 }))!;
  assert.deepEqual(o.downloads.map((d) => [d.receivedBytes, d.totalBytes]), [[10, 100]]);
  const failed = applyModelEvent(o, ev('model.download.failed', { name: 'tiny.en', error: 'offline' }))!;
  assert.deepEqual(failed.downloads, []);
  const model = { name: 'tiny.en', path: '/m/ggml-tiny.en.bin', sizeBytes: 100, source: 'data', type: 'tiny', multilingual: false };
  o = applyModelEvent(o, ev('model.download.completed', { name: 'tiny.en', model }))!;
  assert.deepEqual(o.downloads, []);
  assert.deepEqual(o.items, [model]);
  assert.equal(o.catalog[0]!.installed, true);
  assert.equal(applyModelEvent(o, ev('model.download.progress', {})), undefined);
});
