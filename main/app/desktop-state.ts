/**
 * What the desktop app remembers across launches (no Electron import: tested on Node): the
 * window's size and position — restored only if still visible on one of the current displays
 * (a monitor may have been unplugged since) — and whether to notify of high-severity flags.
 * JSON in the app's user-data folder.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState extends Rect {
  maximized: boolean;
}

export interface DesktopState {
  window: WindowState | null;
  notifications: boolean;
}

export const MIN_WIDTH = 800;
export const MIN_HEIGHT = 560;

export function loadDesktopState(file: string): DesktopState {
  let v: { window?: Partial<WindowState>; notifications?: unknown } = {};
  try {
    v = JSON.parse(readFileSync(file, 'utf8')) as typeof v;
  } catch {
    // first launch, or an unreadable file: defaults
  }
  const w = v.window;
  const valid = w && [w.x, w.y, w.width, w.height].every((n) => typeof n === 'number' && Number.isFinite(n));
  return {
    window: valid ? { x: w.x!, y: w.y!, width: Math.max(MIN_WIDTH, w.width!), height: Math.max(MIN_HEIGHT, w.height!), maximized: w.maximized === true } : null,
    notifications: v.notifications !== false,
  };
}

/** Written to a temporary file and renamed, so a crash mid-write never leaves half a file. */
export function saveDesktopState(file: string, state: DesktopState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, file);
}

/** The saved bounds if at least half of the window lies on some display's work area; else null. */
export function visibleOn(state: WindowState, workAreas: readonly Rect[]): WindowState | null {
  const area = state.width * state.height;
  const onScreen = workAreas.some((d) => {
    const w = Math.min(state.x + state.width, d.x + d.width) - Math.max(state.x, d.x);
    const h = Math.min(state.y + state.height, d.y + d.height) - Math.max(state.y, d.y);
    return w > 0 && h > 0 && w * h >= area / 2;
  });
  return onScreen ? state : null;
}
