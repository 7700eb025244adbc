import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Domain } from '../domain/index.js';
import { generateKey, type Principal } from '../domain/tenancy.js';
import { SCOPES } from '../../common/schemas.js';

export const LOCAL_TENANT = 'local';
export const DEFAULT_PROJECT = 'default';

export interface Bootstrap {
  tenantId: string;
  projectId: string;
  /** Plaintext of the admin key, only on the start that created it (printed once). */
  createdAdminKey: string | null;
  adminKeyFile: string;
}

/**
 * First start: tenant `local`, project `default`, and an admin key written once to
 * `<dataDir>/admin-key` (0600). Later starts change nothing.
 */
export function bootstrap(domain: Domain, dataDir: string): Bootstrap {
  const { tenancy, events } = domain;
  const adminKeyFile = join(dataDir, 'admin-key');
  return events.write(() => {
    tenancy.ensureTenant(LOCAL_TENANT, 'Local');
    const projects = tenancy.listProjects({ keyId: 'bootstrap', tenantId: LOCAL_TENANT, projectId: null, scopes: new Set(['admin']) });
    let createdAdminKey: string | null = null;
    if (!projects.some((p) => p.id === DEFAULT_PROJECT)) {
      tenancy.createProject(LOCAL_TENANT, { id: DEFAULT_PROJECT, name: 'Default' });
      if (!existsSync(adminKeyFile)) {
        createdAdminKey = tenancy.createKey(LOCAL_TENANT, { name: 'admin', scopes: ['admin'], projectId: null }).key;
        writeFileSync(adminKeyFile, createdAdminKey + '\n', { mode: 0o600, flag: 'wx' });
      }
    }
    return { tenantId: LOCAL_TENANT, projectId: DEFAULT_PROJECT, createdAdminKey, adminKeyFile };
  });
}

/** The local console's key: admin of tenant `local`, valid only while this process runs, never stored. */
export function consoleCredential(): { key: string; principal: Principal } {
  return {
    key: generateKey(),
    principal: { keyId: 'console', tenantId: LOCAL_TENANT, projectId: null, scopes: new Set(SCOPES) },
  };
}
