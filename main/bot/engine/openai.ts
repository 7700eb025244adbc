/**
 * An OpenAI-compatible speech-to-text endpoint (`POST {url}/audio/transcriptions`, multipart:
 * file, model, language, response_format), for users who prefer a hosted or self-hosted
 * server to the local engine. Offline or unreachable, it fails with a clear message; the
 * bot's queue then records the failure and goes on.
 */
import { encodeWav } from '../rooms/wav.js';
import type { TranscribeOptions, Transcription, TranscriptionEngine } from './types.js';

export interface OpenAiEngineOptions {
  /** Base URL, e.g. `https://api.openai.com/v1` or a local server's `/v1`. */
  url: string;
  apiKey?: string;
  /** Default `whisper-1`. */
  model?: string;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export class OpenAiEngineError extends Error {
  override name = 'OpenAiEngineError';
}

interface VerboseJson {
  text?: unknown;
  language?: unknown;
  segments?: { start?: unknown; end?: unknown; text?: unknown }[];
}

const LANGUAGE_NAMES: Record<string, string> = { english: 'en', german: 'de', french: 'fr', spanish: 'es', italian: 'it', portuguese: 'pt', dutch: 'nl', polish: 'pl', russian: 'ru', japanese: 'ja', chinese: 'zh', korean: 'ko' };

export class OpenAiEngine implements TranscriptionEngine {
  readonly name: string;
  private readonly endpoint: string;

  constructor(private readonly opts: OpenAiEngineOptions) {
    let base: URL;
    try {
      base = new URL(opts.url);
    } catch {
      throw new OpenAiEngineError(`openai engine: "${opts.url}" is not a URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new OpenAiEngineError('openai engine: the URL must be http(s)');
    this.endpoint = `${base.href.replace(/\/+$/, '')}/audio/transcriptions`;
    this.name = `openai:${opts.model ?? 'whisper-1'}@${base.host}`;
  }

  async transcribe(pcm16k: Float32Array, opts: TranscribeOptions): Promise<Transcription> {
    const started = performance.now();
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(encodeWav(pcm16k, 16000))], { type: 'audio/wav' }), 'utterance.wav');
    form.append('model', this.opts.model ?? 'whisper-1');
    form.append('response_format', 'verbose_json');
    if (opts.language && opts.language !== 'auto') form.append('language', opts.language);
    let res: Response;
    try {
      res = await (this.opts.fetchImpl ?? fetch)(this.endpoint, {
        method: 'POST',
        body: form,
        headers: this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {},
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${this.opts.timeoutMs ?? 60_000} ms` : (e.cause?.code ?? e.message);
      throw new OpenAiEngineError(`openai engine: cannot reach ${new URL(this.endpoint).host} (${why}); offline? Use the local whisper engine.`);
    }
    const text = await res.text();
    if (!res.ok) throw new OpenAiEngineError(`openai engine: ${this.endpoint} answered ${res.status}: ${text.slice(0, 300)}`);
    let body: VerboseJson;
    try {
      body = JSON.parse(text) as VerboseJson;
    } catch {
      throw new OpenAiEngineError(`openai engine: the answer is not JSON: ${text.slice(0, 200)}`);
    }
    if (typeof body.text !== 'string') throw new OpenAiEngineError('openai engine: the answer has no "text"');
    const lang = typeof body.language === 'string' ? (LANGUAGE_NAMES[body.language.toLowerCase()] ?? body.language.toLowerCase()) : null;
    return {
      text: body.text,
      segments: (body.segments ?? [])
        .filter((s) => typeof s.text === 'string' && typeof s.start === 'number' && typeof s.end === 'number')
        .map((s) => ({ startMs: Math.round((s.start as number) * 1000), endMs: Math.round((s.end as number) * 1000), text: s.text as string })),
      language: lang,
      encodeMs: 0,
      totalMs: performance.now() - started,
    };
  }

  async close(): Promise<void> {}
}
