// Load generator for bench/plugins.ts, run as a child process so it does not share the
// server's event loop: POSTs `count` chat messages over keep-alive HTTP, either as fast as
// `concurrency` requests in flight allow, or paced at `rate` per second. `paths` is a
// comma-separated list of message collections (sessions), used round-robin; `speakers` distinct
// externalUserIds take turns. Prints one JSON line.
import { Agent, request } from 'node:http';

const [url, key, paths, count, concurrency, rate, speakers] = process.argv.slice(2);
const PATHS = paths.split(',');
const SPEAKERS = Number(speakers);
const N = Number(count);
const C = Number(concurrency);
const RATE = Number(rate); // 0 = unpaced
const agent = new Agent({ keepAlive: true, maxSockets: C });
const { hostname, port } = new URL(url);

// A chat mix: mostly clean lines, some toxic (incl. obfuscated), some with personal data or watched phrases.
const LINES = [
  'gg everyone, that was a close one',
  'anyone up for another round after this?',
  'push mid, their jungler is top side',
  'lol that flank was perfect',
  'you are a f u c k i n g idiot',
  'uninstall the game you stupid moron',
  'free vbucks at discord.gg/abcdef',
  'my email is sam.player@example.com add me',
  'I will find you and hurt you',
  'nice shot! how did you see him through the smoke',
  'brb getting water',
  'sh1t, I missed the ult again',
];
const body = (i) => JSON.stringify({ content: `${LINES[i % LINES.length]} #${i}`, externalUserId: `player-${i % SPEAKERS}` });

function post(i) {
  return new Promise((resolve) => {
    const data = body(i);
    const req = request({ hostname, port, path: PATHS[i % PATHS.length], method: 'POST', agent, headers: { 'x-api-key': key, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.end(data);
  });
}

const statuses = {};
const start = performance.now();
let next = 0;
async function lane() {
  for (;;) {
    const i = next++;
    if (i >= N) return;
    if (RATE > 0) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const s = await post(i);
    statuses[s] = (statuses[s] ?? 0) + 1;
  }
}
await Promise.all(Array.from({ length: C }, lane));
process.stdout.write(JSON.stringify({ elapsedMs: performance.now() - start, statuses }) + '\n');
agent.destroy();
