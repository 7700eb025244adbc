import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { OpenAiEngine, OpenAiEngineError } from '../../../main/bot/engine/openai.js';

let url = '';
const seen: { auth: string | undefined; type: string | undefined; body: string }[] = [];
let reply: { status: number; body: string } = { status: 200, body: '' };
const server = createServer((req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({ auth: req.headers.authorization, type: req.headers['content-type'], body: Buffer.concat(chunks).toString('latin1') });
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(reply.body);
  });
});
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(() => server.close());

test('posts a WAV as multipart with the model, language and key; reads verbose_json', async () => {
  reply = { status: 200, body: JSON.stringify({ text: ' gg wp', language: 'english', segments: [{ start: 0, end: 0.8, text: ' gg wp' }] }) };
  const engine = new OpenAiEngine({ url, apiKey: 'sk-test', model: 'whisper-large' });
  const t = await engine.transcribe(new Float32Array(16000), { language: 'en' });
  assert.equal(t.text, ' gg wp');
  assert.equal(t.language, 'en');
  assert.deepEqual(t.segments, [{ startMs: 0, endMs: 800, text: ' gg wp' }]);
  const req = seen.at(-1)!;
  assert.equal(req.auth, 'Bearer sk-test');
  assert.match(req.type ?? '', /^multipart\/form-data; boundary=/);
  assert.match(req.body, /name="model"\r\n\r\nwhisper-large/);
  assert.match(req.body, /name="language"\r\n\r\nen/);
  assert.match(req.body, /filename="utterance.wav"[\s\S]*RIFF[\s\S]{4}WAVE/);
});

test('errors are clear: HTTP status, not JSON, unreachable (offline), bad URL', async () => {
  const engine = new OpenAiEngine({ url });
  reply = { status: 401, body: '{"error":{"message":"bad key"}}' };
  await assert.rejects(engine.transcribe(new Float32Array(100), {}), /answered 401: .*bad key/);
  reply = { status: 200, body: '<html>' };
  await assert.rejects(engine.transcribe(new Float32Array(100), {}), /not JSON/);
  // A port nothing listens on stands in for "offline".
  const dead = new OpenAiEngine({ url: 'http://127.0.0.1:9/v1', timeoutMs: 2000 });
  await assert.rejects(dead.transcribe(new Float32Array(100), {}), (e: Error) => e instanceof OpenAiEngineError && /cannot reach 127\.0\.0\.1:9 .*offline/.test(e.message));
  assert.throws(() => new OpenAiEngine({ url: 'ftp://x' }), /http/);
});
