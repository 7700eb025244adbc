/**
 * Whisper models in the data dir (`<dataDir>/models/*.bin`), plus read-only directories a
 * packaged app may ship (`resources/models`). Import copies a local file after checking its
 * header; download fetches a model by name from the standard whisper.cpp host, verifying the
 * published SHA-1, and fails with a clear message when offline.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { modelInfo, ModelFileError } from './engine/model.js';

export const MODEL_HOST = 'https://huggingface.co/ggerganov/whisper.cpp/resolve/main';

/** The standard models and their published SHA-1 (whisper.cpp models/README.md). */
export const MODEL_CATALOG: readonly { name: string; sizeMiB: number; sha1: string; multilingual: boolean }[] = [
  { name: 'tiny', sizeMiB: 75, sha1: 'bd577a113a864445d4c299885e0cb97d4ba92b5f', multilingual: true },
  { name: 'tiny.en', sizeMiB: 75, sha1: 'c78c86eb1a8faa21b369bcd33207cc90d64ae9df', multilingual: false },
  { name: 'base', sizeMiB: 142, sha1: '465707469ff3a37a2b9b8d8f89f2f99de7299dac', multilingual: true },
  { name: 'base.en', sizeMiB: 142, sha1: '137c40403d78fd54d454da0f9bd998f78703390c', multilingual: false },
  { name: 'small', sizeMiB: 466, sha1: '55356645c2b361a969dfd0ef2c5a50d530afd8d5', multilingual: true },
  { name: 'small.en', sizeMiB: 466, sha1: 'db8a495a91d927739e50b3fc1cc4c6b8f6c2d022', multilingual: false },
  { name: 'medium', sizeMiB: 1536, sha1: 'fd9727b6e1217c2f614f9b698455c4ffd82463b4', multilingual: true },
  { name: 'medium.en', sizeMiB: 1536, sha1: '8c30f0e44ce9560643ebd10bbe50cd20eafd3723', multilingual: false },
];

export interface InstalledModel {
  /** `tiny.en` for `ggml-tiny.en.bin`; the file name without `.bin` otherwise. */
  name: string;
  path: string;
  sizeBytes: number;
  source: 'data' | 'bundled';
  type: string;
  multilingual: boolean;
}

export class ModelError extends Error {
  override name = 'ModelError';
  constructor(
    message: string,
    readonly kind: 'invalid' | 'not_found' | 'offline' | 'checksum' | 'exists' | 'http',
  ) {
    super(message);
  }
}

export interface DownloadProgress {
  receivedBytes: number;
  totalBytes: number | null;
}

export const modelName = (file: string) => basename(file).replace(/^ggml-/, '').replace(/\.bin$/, '');
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export class ModelStore {
  readonly dir: string;

  constructor(
    dataDir: string,
    private readonly bundledDirs: readonly string[] = [],
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly catalog: typeof MODEL_CATALOG = MODEL_CATALOG,
  ) {
    this.dir = join(dataDir, 'models');
  }

  async list(): Promise<InstalledModel[]> {
    const out: InstalledModel[] = [];
    for (const [dir, source] of [[this.dir, 'data'], ...this.bundledDirs.map((d) => [d, 'bundled'])] as [string, InstalledModel['source']][]) {
      let files: string[];
      try {
        files = (await readdir(dir)).filter((f) => f.endsWith('.bin'));
      } catch {
        continue; // not created yet, or not shipped
      }
      for (const f of files.sort()) {
        try {
          const info = await modelInfo(join(dir, f));
          out.push({ name: modelName(f), path: info.path, sizeBytes: info.sizeBytes, source, type: info.type, multilingual: info.multilingual });
        } catch {
          // a partial download or a stray file: not a model, not listed
        }
      }
    }
    return out;
  }

  /** The model to use: by name, else the first installed; null when there is none. */
  async resolve(name?: string | null): Promise<InstalledModel | null> {
    const all = await this.list();
    if (name) return all.find((m) => m.name === name || m.path === name) ?? null;
    return all.find((m) => m.name === 'tiny.en') ?? all[0] ?? null;
  }

  /** Copies a local model file into the data dir after checking it is a whisper.cpp ggml model. */
  async import(srcPath: string, name?: string): Promise<InstalledModel> {
    try {
      await modelInfo(srcPath);
    } catch (err) {
      if (err instanceof ModelFileError) throw new ModelError(err.message, 'invalid');
      throw err;
    }
    const target = name ?? modelName(srcPath);
    if (!SAFE_NAME.test(target)) throw new ModelError(`model name "${target}" must be letters, digits, dots, dashes or underscores`, 'invalid');
    await mkdir(this.dir, { recursive: true });
    const dest = join(this.dir, `ggml-${target}.bin`);
    if (await exists(dest)) throw new ModelError(`a model named ${target} is already installed`, 'exists');
    const tmp = `${dest}.part`;
    await pipeline(createReadStream(srcPath), createWriteStream(tmp));
    await rename(tmp, dest);
    return (await this.list()).find((m) => m.path === dest)!;
  }

  /** Downloads a catalog model, verifying its SHA-1; the file appears only when complete and verified. */
  async download(name: string, onProgress: (p: DownloadProgress) => void = () => {}, signal?: AbortSignal): Promise<InstalledModel> {
    const entry = this.catalog.find((m) => m.name === name);
    if (!entry) throw new ModelError(`unknown model "${name}"; known: ${this.catalog.map((m) => m.name).join(', ')}`, 'not_found');
    await mkdir(this.dir, { recursive: true });
    const dest = join(this.dir, `ggml-${name}.bin`);
    if (await exists(dest)) throw new ModelError(`model ${name} is already installed`, 'exists');
    const url = `${MODEL_HOST}/ggml-${name}.bin`;
    let res: Response;
    try {
      res = await this.fetchImpl(url, { signal });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ModelError(`cannot download ${name}: ${new URL(url).host} is unreachable (${cause}). This machine may be offline: import a model file instead.`, 'offline');
    }
    if (!res.ok || !res.body) throw new ModelError(`cannot download ${name}: ${url} answered ${res.status}`, 'http');
    const total = Number(res.headers.get('content-length')) || null;
    const sha1 = createHash('sha1');
    let received = 0;
    let lastReport = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sha1.update(chunk);
        received += chunk.byteLength;
        const now = Date.now();
        if (now - lastReport >= 250) {
          lastReport = now;
          onProgress({ receivedBytes: received, totalBytes: total });
        }
        cb(null, chunk);
      },
    });
    const tmp = `${dest}.part`;
    try {
      await pipeline(Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]), tap, createWriteStream(tmp), { signal });
      const digest = sha1.digest('hex');
      if (digest !== entry.sha1) throw new ModelError(`download of ${name} is corrupt: SHA-1 ${digest}, expected ${entry.sha1}`, 'checksum');
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    onProgress({ receivedBytes: received, totalBytes: total });
    return (await this.list()).find((m) => m.path === dest)!;
  }

  async remove(name: string): Promise<boolean> {
    const m = (await this.list()).find((x) => x.name === name && x.source === 'data');
    if (!m) return false;
    await rm(m.path);
    return true;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
