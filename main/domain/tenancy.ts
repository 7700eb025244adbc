import { createHash, randomBytes } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import type { ApiKey, ApiKeyCreate, Project, ProjectCreate, Scope } from '../../common/schemas.js';
import { conflict, notFound, ProblemError } from '../core/errors.js';
import { nowIso, uuidv7 } from '../store/ids.js';
import { statementCache, type DomainDeps } from './context.js';

interface KeyRow {
  id: string;
  tenant_id: string;
  project_id: string | null;
  name: string;
  prefix: string;
  scopes: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

interface ProjectRow {
  id: string;
  tenant_id: string;
  name: string;
  created_at: string;
}

/** What an authenticated request may do. */
export interface Principal {
  keyId: string;
  tenantId: string;
  /** null = every project of the tenant. */
  projectId: string | null;
  scopes: ReadonlySet<Scope>;
}

const toKey = (r: KeyRow): ApiKey => ({
  id: r.id,
  tenantId: r.tenant_id,
  projectId: r.project_id,
  name: r.name,
  prefix: r.prefix,
  scopes: JSON.parse(r.scopes) as Scope[],
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});
const toProject = (r: ProjectRow): Project => ({ id: r.id, tenantId: r.tenant_id, name: r.name, createdAt: r.created_at });

export const KEY_PREFIX = 'ctx_';
/** Keys are 256 random bits, so a fast hash is enough: there is nothing to brute-force. */
export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');
export const generateKey = () => KEY_PREFIX + randomBytes(32).toString('base64url');

export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes.has('admin') || p.scopes.has(scope);
}

/** Tenants, projects and API keys. Keys are stored only as SHA-256 hashes. */
export function createTenancy({ db }: DomainDeps) {
  const sql = statementCache(db);
  const keyByHash = db.prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE hash = ?');
  const projectById = db.prepare<[string, string], ProjectRow>('SELECT * FROM projects WHERE id = ? AND tenant_id = ?');
  const touchKey = db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?');
  /**
   * presented key → principal (null = unknown or revoked); revocation clears it. Keyed by the
   * key itself, which is in memory anyway while a request carries it, so the hot path does
   * neither a hash nor a query.
   */
  const cache = new Map<string, Principal | null>();
  const lastTouch = new Map<string, number>();

  function ensureTenant(id: string, name: string): void {
    sql('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT(id) DO NOTHING').run(id, name, nowIso());
  }

  function createProject(tenantId: string, input: Static<typeof ProjectCreate>): Project {
    const id = input.id ?? uuidv7();
    if (projectById.get(id, tenantId)) throw conflict('a project with this id exists', 'body/id');
    const row: ProjectRow = { id, tenant_id: tenantId, name: input.name, created_at: nowIso() };
    sql('INSERT INTO projects (id, tenant_id, name, created_at) VALUES (@id, @tenant_id, @name, @created_at)').run(row);
    return toProject(row);
  }

  function getProject(tenantId: string, id: string, field = 'params/projectId'): Project {
    const row = projectById.get(id, tenantId);
    if (!row) throw notFound('project', field);
    return toProject(row);
  }

  /** Projects are never deleted, so a project once seen exists for good: checked from memory on the hot path. */
  const knownProjects = new Set<string>();
  function requireProject(tenantId: string, id: string): void {
    const k = `${tenantId}\n${id}`;
    if (knownProjects.has(k)) return;
    getProject(tenantId, id);
    knownProjects.add(k);
  }

  function listProjects(p: Principal): Project[] {
    const rows = (p.projectId
      ? sql('SELECT * FROM projects WHERE tenant_id = ? AND id = ?').all(p.tenantId, p.projectId)
      : sql('SELECT * FROM projects WHERE tenant_id = ? ORDER BY created_at').all(p.tenantId)) as ProjectRow[];
    return rows.map(toProject);
  }

  /** Creates a key; returns its plaintext once. */
  function createKey(tenantId: string, input: { name: string; scopes: Scope[]; projectId: string | null }): ApiKey & { key: string } {
    if (input.projectId) getProject(tenantId, input.projectId, 'body/projectId');
    const key = generateKey();
    const row: KeyRow = {
      id: uuidv7(),
      tenant_id: tenantId,
      project_id: input.projectId,
      name: input.name,
      prefix: key.slice(0, 10),
      scopes: JSON.stringify(input.scopes),
      created_at: nowIso(),
      last_used_at: null,
      revoked_at: null,
    };
    sql(
      `INSERT INTO api_keys (id, tenant_id, project_id, name, prefix, hash, scopes, created_at)
       VALUES (@id, @tenant_id, @project_id, @name, @prefix, @hash, @scopes, @created_at)`,
    ).run({ ...row, hash: hashKey(key) });
    return { ...toKey(row), key };
  }

  /** Creates a key on behalf of `by`, which cannot grant more than it has. */
  function issueKey(by: Principal, input: Static<typeof ApiKeyCreate>): ApiKey & { key: string } {
    const projectId = input.projectId ?? by.projectId;
    if (by.projectId && projectId !== by.projectId) throw new ProblemError('forbidden', 'a project-bound key can only issue keys for its project', 'body/projectId');
    const excess = input.scopes.filter((s) => !hasScope(by, s));
    if (excess.length) throw new ProblemError('forbidden', `cannot grant scopes this key lacks: ${excess.join(', ')}`, 'body/scopes');
    return createKey(by.tenantId, { name: input.name, scopes: input.scopes, projectId });
  }

  function listKeys(by: Principal): ApiKey[] {
    const rows = (by.projectId
      ? sql('SELECT * FROM api_keys WHERE tenant_id = ? AND project_id = ? ORDER BY id').all(by.tenantId, by.projectId)
      : sql('SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY id').all(by.tenantId)) as KeyRow[];
    return rows.map(toKey);
  }

  function revokeKey(by: Principal, id: string): ApiKey {
    const row = sql('SELECT * FROM api_keys WHERE id = ? AND tenant_id = ?').get(id, by.tenantId) as KeyRow | undefined;
    if (!row || (by.projectId && row.project_id !== by.projectId)) throw notFound('key', 'params/keyId');
    if (row.revoked_at) throw conflict('key is already revoked');
    const now = nowIso();
    sql('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(now, id);
    cache.clear();
    return toKey({ ...row, revoked_at: now });
  }

  /** The principal for a presented key, or null (unknown or revoked). */
  function authenticate(key: string): Principal | null {
    let principal = cache.get(key);
    if (principal === undefined) {
      const row = keyByHash.get(hashKey(key));
      principal = row && !row.revoked_at
        ? { keyId: row.id, tenantId: row.tenant_id, projectId: row.project_id, scopes: new Set(JSON.parse(row.scopes) as Scope[]) }
        : null;
      if (cache.size > 10_000) cache.clear();
      cache.set(key, principal);
    }
    if (principal) {
      // last_used_at is advisory: write it at most once a minute per key.
      const now = Date.now();
      if ((lastTouch.get(principal.keyId) ?? 0) < now - 60_000) {
        lastTouch.set(principal.keyId, now);
        touchKey.run(new Date(now).toISOString(), principal.keyId);
      }
    }
    return principal;
  }

  return { ensureTenant, createProject, getProject, requireProject, listProjects, createKey, issueKey, listKeys, revokeKey, authenticate };
}

export type TenancyModule = ReturnType<typeof createTenancy>;
