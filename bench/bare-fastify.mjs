#!/usr/bin/env node
/**
 * Baseline for bench/api.ts: a bare Fastify 5 server with a hello-world POST route.
 * Same framework and JSON body parsing as the real API, none of its auth, validation,
 * SQLite write, event log or response schema.
 *
 *   node bench/bare-fastify.mjs [--port N]   (default 0 = any free port; always 127.0.0.1)
 * Prints `bare-fastify listening on http://127.0.0.1:PORT` once ready.
 */
import Fastify from 'fastify';

const i = process.argv.indexOf('--port');
const port = i > 0 ? Number(process.argv[i + 1]) : 0;

const app = Fastify({ logger: false });
app.post('/hello', async () => ({ ok: true }));
app.get('/health', async () => ({ status: 'ok' }));

const url = await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`bare-fastify listening on ${url}\n`);

const stop = () => app.close().then(() => process.exit(0), () => process.exit(1));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
