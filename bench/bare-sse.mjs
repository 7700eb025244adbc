#!/usr/bin/env node
/**
 * Baseline for bench/api.ts SSE fan-out: a bare node:http server.
 *   GET  <any path>   text/event-stream subscriber (same headers / chunked framing as the API)
 *   POST /publish     body {"content": "..."}: immediately writes one event, shaped and sized
 *                     like the API's `message.created` envelope, to every subscriber; 201 + JSON.
 *   GET  /health      {"status":"ok","subscribers":N}
 *
 *   node bench/bare-sse.mjs [--port N]   (default 0; always 127.0.0.1)
 * Prints `bare-sse listening on http://127.0.0.1:PORT` once ready.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';

const i = process.argv.indexOf('--port');
const port = i > 0 ? Number(process.argv[i + 1]) : 0;

const clients = new Set();
const sessionId = randomUUID();
const participantId = randomUUID();
let seq = 0;

function readBody(req) {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  if (req.method === 'POST' && req.url === '/publish') {
    let input;
    try {
      input = JSON.parse(await readBody(req));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad json"}');
      return;
    }
    const now = new Date().toISOString();
    const message = {
      id: randomUUID(), sessionId, participantId, type: 'user', senderName: null,
      content: String(input.content), timestamp: now, language: null, hasDebugAudio: false,
    };
    const event = {
      id: randomUUID(), seq: ++seq, type: 'message.created', source: 'api', tenantId: 'local', projectId: 'default',
      resourceId: `message:${message.id}`, timestamp: now, payload: { action: 'created', data: message },
    };
    const frame = `id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`;
    for (const c of clients) c.write(frame);
    const body = JSON.stringify(message);
    res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
    return;
  }
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', subscribers: clients.size }));
    return;
  }
  if (req.method === 'GET') {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    res.write('retry: 1000\n\n');
    clients.add(res);
    res.on('close', () => clients.delete(res));
    return;
  }
  res.writeHead(404).end();
});

server.listen(port, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`bare-sse listening on http://127.0.0.1:${a.port}\n`);
});

const stop = () => {
  for (const c of clients) c.end();
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
