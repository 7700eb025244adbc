/**
 * Static checks for user-supplied regular expressions (the `keywords` plugin's patterns), which
 * run against attacker-controlled chat text in V8's backtracking engine.
 *
 * `checkRegex` rejects:
 *  - invalid syntax, patterns longer than 500 characters, flags other than i, m, s, u;
 *  - backreferences (`\1`, `\k<name>`) and lookbehind (`(?<=…)`, `(?<!…)`);
 *  - more than 25 quantifiers, and nested quantifiers (star height > 1) as judged by
 *    safe-regex2: `(a+)+`, `(\w+\s?)*`, `(.*a){12}`;
 *  - alternatives of a repeated group that can start with the same character, or that can
 *    match the empty string: `(a|a)*`, `(a|ab)*`, `(\w|\d)+`, `(a|)*`. This is conservative:
 *    it only compares first characters, so some safe groups (`(ab|ac)+`) are rejected too;
 *  - two unbounded quantifiers in one sequence whose characters overlap, with everything
 *    between them optional or matchable by the first one: `.*a.*b`, `\d+\s*\d+`, `\S+\.\S+`.
 *    These backtrack polynomially (`.*a.*b` takes minutes on 10 KB of `a`).
 *
 * Character sets are compared by testing a fixed sample of code points (ASCII, Latin, Greek,
 * Cyrillic, common punctuation/space blocks, CJK/emoji samples), so two classes that only share
 * characters outside the sample count as disjoint.
 *
 * Not detected: quadratic behaviour of a single quantifier over long runs (`\w+x` on
 * 10 KB of `a` takes ~0.1 s); the keywords plugin bounds that by scanning long texts in windows.
 */
import safeRegex from 'safe-regex2';

export const MAX_PATTERN_LENGTH = 500;
export const MAX_QUANTIFIERS = 25;
export const ALLOWED_FLAGS = 'imsu';

type Atom = { t: 'char'; cp: number } | { t: 'set'; src: string };
type Node =
  | Atom
  | { t: 'assert' }
  | { t: 'backref' }
  | { t: 'group'; look: null | 'ahead' | 'behind'; alts: Node[][] }
  | { t: 'quant'; node: Node; min: number; max: number };

/** A reason if the flags are not a subset of `imsu` without repeats, else null. */
export function checkFlags(flags: string | undefined): string | null {
  if (flags === undefined || flags === '') return null;
  if (typeof flags !== 'string' || !/^[imsu]*$/.test(flags)) return `only the flags ${ALLOWED_FLAGS.split('').join(', ')} are allowed`;
  if (new Set(flags).size !== flags.length) return 'a flag is repeated';
  return null;
}

// ---- parser (input is known to be a valid JS regex) -----------------------------------------

class Parser {
  pos = 0;
  constructor(private readonly src: string) {}

  parse(): Node[][] {
    const alts = this.alts();
    if (this.pos !== this.src.length) throw new Error(`unexpected ${this.src[this.pos]}`);
    return alts;
  }

  private alts(): Node[][] {
    const alts = [this.seq()];
    while (this.src[this.pos] === '|') {
      this.pos++;
      alts.push(this.seq());
    }
    return alts;
  }

  private seq(): Node[] {
    const items: Node[] = [];
    while (this.pos < this.src.length && this.src[this.pos] !== '|' && this.src[this.pos] !== ')') {
      const atom = this.atom();
      items.push(this.quantifier(atom));
    }
    return items;
  }

  private quantifier(node: Node): Node {
    const c = this.src[this.pos];
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.src.slice(this.pos));
      if (!m) return node; // a literal `{` (non-unicode mode)
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] ? Number(m[3]) : Infinity;
      this.pos += m[0].length - 1;
    } else return node;
    this.pos++;
    if (this.src[this.pos] === '?') this.pos++; // lazy
    return { t: 'quant', node, min, max };
  }

  private atom(): Node {
    const src = this.src;
    const c = src[this.pos]!;
    if (c === '(') {
      this.pos++;
      let look: null | 'ahead' | 'behind' = null;
      if (src.startsWith('?:', this.pos)) this.pos += 2;
      else if (src.startsWith('?=', this.pos) || src.startsWith('?!', this.pos)) [look, this.pos] = ['ahead', this.pos + 2];
      else if (src.startsWith('?<=', this.pos) || src.startsWith('?<!', this.pos)) [look, this.pos] = ['behind', this.pos + 3];
      else if (src.startsWith('?<', this.pos)) this.pos = src.indexOf('>', this.pos) + 1;
      const alts = this.alts();
      if (src[this.pos] !== ')') throw new Error('unbalanced group');
      this.pos++;
      return { t: 'group', look, alts };
    }
    if (c === '[') {
      let j = this.pos + 1;
      if (src[j] === '^') j++;
      while (j < src.length && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
      const set = src.slice(this.pos, j + 1);
      this.pos = j + 1;
      return { t: 'set', src: set };
    }
    if (c === '.') {
      this.pos++;
      return { t: 'set', src: '.' };
    }
    if (c === '^' || c === '$') {
      this.pos++;
      return { t: 'assert' };
    }
    if (c === '\\') return this.escape();
    const cp = src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return { t: 'char', cp };
  }

  private escape(): Node {
    const src = this.src;
    const e = src[this.pos + 1] ?? '';
    const start = this.pos;
    this.pos += 2;
    if (e === 'b' || e === 'B') return { t: 'assert' };
    if ('dDwWsS'.includes(e)) return { t: 'set', src: `\\${e}` };
    if ((e === 'p' || e === 'P') && src[this.pos] === '{') {
      this.pos = src.indexOf('}', this.pos) + 1;
      return { t: 'set', src: src.slice(start, this.pos) };
    }
    if (/[1-9]/.test(e)) {
      while (/[0-9]/.test(src[this.pos] ?? '')) this.pos++;
      return { t: 'backref' };
    }
    if (e === 'k' && src[this.pos] === '<') {
      this.pos = src.indexOf('>', this.pos) + 1;
      return { t: 'backref' };
    }
    const hex = (n: number) => {
      const h = src.slice(this.pos, this.pos + n);
      this.pos += n;
      return parseInt(h, 16);
    };
    switch (e) {
      case '0':
        while (/[0-7]/.test(src[this.pos] ?? '')) this.pos++;
        return { t: 'set', src: src.slice(start, this.pos) };
      case 'x':
        return { t: 'char', cp: hex(2) };
      case 'u':
        if (src[this.pos] === '{') {
          const end = src.indexOf('}', this.pos);
          const cp = parseInt(src.slice(this.pos + 1, end), 16);
          this.pos = end + 1;
          return { t: 'char', cp };
        }
        return { t: 'char', cp: hex(4) };
      case 'c':
        this.pos++;
        return { t: 'set', src: src.slice(start, this.pos) };
      case 't':
        return { t: 'char', cp: 9 };
      case 'n':
        return { t: 'char', cp: 10 };
      case 'v':
        return { t: 'char', cp: 11 };
      case 'f':
        return { t: 'char', cp: 12 };
      case 'r':
        return { t: 'char', cp: 13 };
      default: {
        const cp = src.codePointAt(start + 1)!;
        this.pos = start + 1 + (cp > 0xffff ? 2 : 1);
        return { t: 'char', cp };
      }
    }
  }
}

// ---- character-set overlap by sampling ------------------------------------------------------

const SAMPLES: number[] = (() => {
  const out: number[] = [];
  const range = (from: number, to: number, step = 1) => {
    for (let cp = from; cp <= to; cp += step) out.push(cp);
  };
  range(0, 0x2ff);
  range(0x370, 0x3ff);
  range(0x400, 0x4ff);
  range(0x590, 0x6ff, 3);
  range(0x900, 0x97f, 3);
  range(0x1680, 0x1680);
  range(0x1e00, 0x1eff, 3);
  range(0x2000, 0x206f);
  range(0x20a0, 0x20bf);
  range(0x2100, 0x218f);
  range(0x2190, 0x23ff, 5);
  range(0x2460, 0x24ff, 3);
  range(0x2500, 0x27bf, 7);
  range(0x3000, 0x303f);
  range(0x3040, 0x30ff, 3);
  range(0x4e00, 0x4e40);
  range(0xac00, 0xac20);
  range(0xd7ff, 0xd7ff);
  range(0xe000, 0xe000);
  range(0xfe00, 0xfe0f);
  range(0xfeff, 0xfeff);
  range(0xff00, 0xffef, 2);
  range(0xfffd, 0xfffd);
  range(0x10000, 0x10010);
  range(0x1d400, 0x1d420);
  range(0x1f300, 0x1f6ff, 7);
  range(0x20000, 0x20005);
  return out;
})();

class CharSets {
  private readonly compiled = new Map<string, RegExp | null>();
  constructor(private readonly flags: string) {}

  /** `^(?:atom)$`, cached; null if it does not compile on its own (then treated as "anything"). */
  private re(atom: Atom): RegExp | null {
    const src = atom.t === 'char' ? String.fromCodePoint(atom.cp).replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&') : atom.src;
    if (!this.compiled.has(src)) {
      let re: RegExp | null = null;
      try {
        re = new RegExp(`^(?:${src})$`, this.flags);
      } catch {
        re = null;
      }
      this.compiled.set(src, re);
    }
    return this.compiled.get(src)!;
  }

  private matches(atom: Atom, cp: number): boolean {
    const re = this.re(atom);
    return re === null || re.test(String.fromCodePoint(cp));
  }

  private pair(x: Atom, y: Atom): boolean {
    if (x.t === 'char') return x.cp === (y.t === 'char' ? y.cp : -1) || this.matches(y, x.cp);
    if (y.t === 'char') return this.matches(x, y.cp);
    for (const cp of SAMPLES) if (this.matches(x, cp) && this.matches(y, cp)) return true;
    return false;
  }

  /** Whether some character can be matched by an atom of `a` and by an atom of `b`. */
  overlap(a: readonly Atom[], b: readonly Atom[]): boolean {
    return a.some((x) => b.some((y) => this.pair(x, y)));
  }
}

// ---- structural helpers ---------------------------------------------------------------------

function nullable(node: Node): boolean {
  switch (node.t) {
    case 'char':
    case 'set':
      return false;
    case 'assert':
    case 'backref':
      return true;
    case 'group':
      return node.look !== null || node.alts.some((alt) => alt.every(nullable));
    case 'quant':
      return node.min === 0 || nullable(node.node);
  }
}

/** Characters a sequence can start with, and whether it can match the empty string. */
function firstOf(seq: readonly Node[]): { atoms: Atom[]; nullable: boolean } {
  const atoms: Atom[] = [];
  for (const node of seq) {
    if (node.t === 'char' || node.t === 'set') return { atoms: [...atoms, node], nullable: false };
    if (node.t === 'assert' || node.t === 'backref' || (node.t === 'group' && node.look)) continue;
    const inner = node.t === 'group' ? node.alts.map(firstOf) : [firstOf([node.node])];
    for (const f of inner) atoms.push(...f.atoms);
    const canSkip = node.t === 'group' ? inner.some((f) => f.nullable) : node.min === 0 || inner.some((f) => f.nullable);
    if (!canSkip) return { atoms, nullable: false };
  }
  return { atoms, nullable: true };
}

/** Every character a node can consume (lookarounds excluded). */
function atomsOf(node: Node, out: Atom[] = []): Atom[] {
  if (node.t === 'char' || node.t === 'set') out.push(node);
  else if (node.t === 'quant') atomsOf(node.node, out);
  else if (node.t === 'group' && !node.look) for (const alt of node.alts) for (const n of alt) atomsOf(n, out);
  return out;
}

function hasUnbounded(node: Node): boolean {
  if (node.t === 'quant') return node.max === Infinity || hasUnbounded(node.node);
  if (node.t === 'group' && !node.look) return node.alts.some((alt) => alt.some(hasUnbounded));
  return false;
}

function countQuantifiers(nodes: readonly Node[]): number {
  let n = 0;
  for (const node of nodes) {
    if (node.t === 'quant') n += 1 + countQuantifiers([node.node]);
    else if (node.t === 'group') for (const alt of node.alts) n += countQuantifiers(alt);
  }
  return n;
}

function find(nodes: readonly Node[], pred: (n: Node) => boolean): boolean {
  for (const node of nodes) {
    if (pred(node)) return true;
    if (node.t === 'quant' && find([node.node], pred)) return true;
    if (node.t === 'group' && node.alts.some((alt) => find(alt, pred))) return true;
  }
  return false;
}

/** Visits every sequence with whether it sits inside a quantifier that repeats (max > 1). */
function eachSequence(alts: readonly Node[][], repeated: boolean, visit: (seq: Node[], alts: readonly Node[][], repeated: boolean) => string | null): string | null {
  for (const seq of alts) {
    const r = visit(seq, alts, repeated);
    if (r) return r;
    for (const node of seq) {
      let inner: Node = node;
      let rep = repeated;
      while (inner.t === 'quant') {
        rep ||= inner.max > 1;
        inner = inner.node;
      }
      if (inner.t === 'group') {
        const r2 = eachSequence(inner.alts, rep, visit);
        if (r2) return r2;
      }
    }
  }
  return null;
}

// ---- the check ------------------------------------------------------------------------------

/**
 * Null when `pattern` (with `flags`) is acceptable, else a human-readable reason. See the
 * module comment for what is rejected and the limits of the analysis.
 */
export function checkRegex(pattern: string, flags = ''): string | null {
  if (typeof pattern !== 'string' || pattern.length === 0) return 'the pattern is empty';
  if (pattern.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  const flagProblem = checkFlags(flags);
  if (flagProblem) return flagProblem;
  try {
    new RegExp(pattern, flags);
  } catch (err) {
    return `invalid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
  let alts: Node[][];
  try {
    alts = new Parser(pattern).parse();
  } catch {
    return 'unsupported regular expression syntax';
  }
  const all = alts.flat();
  if (find(all, (n) => n.t === 'backref')) return 'backreferences (\\1, \\k<name>) are not allowed';
  if (find(all, (n) => n.t === 'group' && n.look === 'behind')) return 'lookbehind ((?<=…), (?<!…)) is not allowed';
  if (countQuantifiers(all) > MAX_QUANTIFIERS) return `more than ${MAX_QUANTIFIERS} quantifiers`;
  if (!safeRegex(pattern, { limit: MAX_QUANTIFIERS })) return 'nested quantifiers (e.g. (a+)+) can backtrack catastrophically';

  const sets = new CharSets(flags.replace(/[gmy]/g, ''));
  return eachSequence(alts, false, (seq, groupAlts, repeated) => {
    // alternatives of a repeated group
    if (repeated && groupAlts.length > 1 && seq === groupAlts[0]) {
      const firsts = groupAlts.map(firstOf);
      if (firsts.some((f) => f.nullable)) return 'an alternative inside a repeated group can match the empty string';
      for (let i = 0; i < firsts.length; i++) {
        for (let j = i + 1; j < firsts.length; j++) {
          if (sets.overlap(firsts[i]!.atoms, firsts[j]!.atoms)) {
            return 'alternatives inside a repeated group can start with the same character (e.g. (a|ab)*), which can backtrack catastrophically';
          }
        }
      }
    }
    // two overlapping unbounded quantifiers in one sequence
    for (let i = 0; i < seq.length; i++) {
      if (!hasUnbounded(seq[i]!)) continue;
      const first = atomsOf(seq[i]!);
      for (let j = i + 1; j < seq.length; j++) {
        const node = seq[j]!;
        if (hasUnbounded(node) && sets.overlap(first, atomsOf(node))) {
          return 'two unbounded quantifiers can match the same characters (e.g. .*a.*b or \\d+\\s*\\d+), which backtracks polynomially';
        }
        if (!nullable(node) && !sets.overlap(first, atomsOf(node))) break;
      }
    }
    return null;
  });
}
