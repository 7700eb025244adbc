/** Shared by test/automod: a real Cortex on 127.0.0.1 that can be restarted on the same data dir, and annotation helpers. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CortexConfig } from '../../main/core/config.js';
import { startCortex, type Cortex } from '../../main/core/cortex.js';
import { P, request, until, type Api, type J } from '../api/helpers.js';

export { P, until, type J };

export interface Node {
  cortex: Cortex;
  url: string;
  dataDir: string;
  key: string;
  api: Api;
  /** Closes the server, keeping the data dir (for a restart). */
  stop(): Promise<void>;
}

export const tempDir = () => mkdtemp(join(tmpdir(), 'cx-automod-'));
export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts Cortex on `dataDir` (listening on 127.0.0.1, a free port). */
export async function startNode(dataDir: string, overrides: Partial<CortexConfig> = {}): Promise<Node> {
  const cortex = await startCortex({ dataDir, host: '127.0.0.1', port: 0, logLevel: 'silent', sweepIntervalMs: 60_000, ...overrides });
  const url = await cortex.listen();
  return {
    cortex, url, dataDir, key: cortex.consoleKey,
    api: (method, path, o = {}) => request(url, o.key === undefined ? cortex.consoleKey : o.key, method, path, o),
    stop: () => cortex.close(),
  };
}

/** Waits until the automod evaluator has read everything committed so far (and what it wrote itself). */
export function settled(n: Node): Promise<true> {
  const { automod, events } = n.cortex;
  return until(() => automod.evaluator.evaluatedSeq >= events.lastSeq(), 'the automod evaluator to catch up');
}

export async function ok(n: Node, method: string, path: string, body?: unknown, status?: number): Promise<J> {
  const r = await n.api(method, path, { body });
  if (status !== undefined) assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
  else assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.json;
}

export const createRule = (n: Node, rule: Record<string, unknown>): Promise<J> => ok(n, 'POST', `${P}/automod/rules`, { name: 'rule', ...rule }, 201);

/** A message by `user` (an external user id) in `sessionId`. */
export const say = (n: Node, sessionId: string, user: string, content = 'hello', extra: Record<string, unknown> = {}): Promise<J> =>
  ok(n, 'POST', `${P}/sessions/${sessionId}/messages`, { content, externalUserId: user, ...extra }, 201);

/** What a plugin would write: an annotation on a message, through the public API. */
export const annotate = (n: Node, m: J, type: string, score: number | null, severity: string | null = 'medium', categories?: string[]): Promise<J> =>
  ok(n, 'POST', `${P}/sessions/${m.sessionId}/messages/${m.id}/annotations`, {
    type, score, severity, ...(categories && { content: { categories } }),
  }, 201);

/** Sanctions of a participant (newest first). */
export async function sanctionsOf(n: Node, participantId: string, query = ''): Promise<J[]> {
  const r = await n.api('GET', `${P}/participants/${participantId}/sanctions${query}`);
  assert.equal(r.status, 200, r.text);
  return r.json.items;
}
