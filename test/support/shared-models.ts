/**
 * whisper.cpp's test model (real format, no weights), which tests may read from the shared
 * folder next to the repository (`../shared/models`); the app itself never does.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FILE = 'for-tests-ggml-tiny.en.bin';
// `../shared` next to the checkout; /work/shared where the checkout lives elsewhere (a CI clone in /tmp).
const CANDIDATES = [join(repoRoot, '..', 'shared', 'models'), '/work/shared/models'];

/** The test model's path, or null when no shared folder is reachable from this checkout. */
export const TEST_MODEL: string | null = CANDIDATES.map((d) => join(d, FILE)).find((p) => existsSync(p)) ?? null;

/** `skip` option for tests that need the test model. */
export const needsTestModel: string | false = TEST_MODEL ? false : `whisper.cpp test model ${FILE} not found in ${CANDIDATES.join(' or ')}`;
