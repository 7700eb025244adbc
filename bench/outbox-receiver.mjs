// Webhook receiver for bench/outbox.ts: a child process (plain node:http, no tsx) with two
// servers on 127.0.0.1, both reporting to the parent over IPC:
//
//   fast  replies 200 with an empty body as soon as the request has been read
//   slow  replies 200 after SLOW_MS (the "slow neighbour" of the isolation scenario)
//
// Arrival time is process.hrtime.bigint() when the request's headers are parsed (the 'request'
// event). On Linux that is CLOCK_MONOTONIC, one clock for every process, so the parent can
// subtract its own hrtime readings. Arrivals are counted per round (the parent sends `reset`);
// in `ids` mode the fast server also records (webhook-id, arrival ns) and sends them to the
// parent in batches every FLUSH_MS. When the fast count reaches `target`, the hrtime of that
// arrival is sent at once (throughput rounds end there).
import http from 'node:http';

const FLUSH_MS = 20;
const SLOW_MS = Number(process.env.BENCH_SLOW_MS ?? 10_000);

let round = 0;
let mode = 'count';
let target = Infinity;
let fastCount = 0;
let slowCount = 0;
let firstNs = 0;
let lastNs = 0;
let batchIds = [];
let batchNs = [];
const slowTimers = new Set();

const send = (m) => {
  if (process.connected) process.send(m);
};

const fast = http.createServer((req, res) => {
  const ns = Number(process.hrtime.bigint());
  fastCount++;
  if (fastCount === 1) firstNs = ns;
  lastNs = ns;
  if (mode === 'ids') {
    const id = req.headers['webhook-id'];
    batchIds.push(typeof id === 'string' ? id : '');
    batchNs.push(ns);
  }
  if (fastCount === target) send({ ev: 'target', round, count: fastCount, firstNs, atNs: ns });
  req.on('end', () => {
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
  req.resume();
});

const slow = http.createServer((req, res) => {
  slowCount++;
  req.resume();
  const t = setTimeout(() => {
    slowTimers.delete(t);
    if (!res.destroyed) {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    }
  }, SLOW_MS);
  slowTimers.add(t);
  // The sender gave up (its process closed the connection): forget the timer.
  res.on('close', () => {
    clearTimeout(t);
    slowTimers.delete(t);
  });
});

for (const s of [fast, slow]) {
  s.keepAliveTimeout = 60_000;
  s.headersTimeout = 65_000;
}

function flush() {
  if (batchIds.length === 0) return;
  send({ ev: 'arrivals', round, ids: batchIds, ns: batchNs, count: fastCount });
  batchIds = [];
  batchNs = [];
}
setInterval(flush, FLUSH_MS);

const listen = (s) => new Promise((res, rej) => {
  s.once('error', rej);
  s.listen(0, '127.0.0.1', () => res(s.address().port));
});

process.on('message', (m) => {
  switch (m.cmd) {
    case 'reset':
      flush();
      round = m.round;
      mode = m.mode;
      target = m.target ?? Infinity;
      fastCount = 0;
      slowCount = 0;
      firstNs = 0;
      lastNs = 0;
      send({ id: m.id, ok: true, result: null });
      break;
    case 'stats':
      flush();
      send({ id: m.id, ok: true, result: { round, fastCount, slowCount, firstNs, lastNs, slowPending: slowTimers.size } });
      break;
    case 'exit':
      flush();
      for (const t of slowTimers) clearTimeout(t);
      fast.closeAllConnections();
      slow.closeAllConnections();
      send({ id: m.id, ok: true, result: null });
      setTimeout(() => process.exit(0), 20);
      break;
    default:
      send({ id: m.id, ok: false, error: `unknown command ${m.cmd}` });
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

const [fastPort, slowPort] = await Promise.all([listen(fast), listen(slow)]);
send({ ev: 'hello', fastPort, slowPort, pid: process.pid });
