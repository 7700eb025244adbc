import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let counter = 0;

// Random bytes are drawn 4 KiB at a time: one syscall per 256 ids instead of one per id.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
function random(n: number): Buffer {
  if (poolOffset + n > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

const bytes = Buffer.alloc(16);

/**
 * UUIDv7: time-ordered, so ids sort by creation and serve as pagination cursors. Within one
 * millisecond a 12-bit counter keeps ids from this process strictly increasing.
 */
/** The smallest UUIDv7 of millisecond `ms`: ids compare as text, so `id >= uuidv7Floor(t)` means "created at t or later". */
export function uuidv7Floor(ms: number): string {
  const h = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7000-8000-000000000000`;
}

export function uuidv7(now = Date.now()): string {
  if (now <= lastMs) {
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
    now = lastMs;
  } else {
    lastMs = now;
    counter = random(2).readUInt16BE(0) & 0x3ff; // leave headroom for increments
  }
  random(16).copy(bytes);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function nowIso(): string {
  return new Date().toISOString();
}
