/**
 * `pii`: personal data in chat messages — email addresses, phone numbers, payment card
 * numbers (Luhn-checked) and IBANs (mod-97-checked, with the registry length per country).
 * Optionally returns the text with each finding replaced by `[email]`, `[phone]`, `[card]`,
 * `[iban]`.
 *
 * Every regex here is linear-time: runs that can start a match are anchored with a lookbehind
 * so a failed attempt is never retried inside the same run, and all repetitions are either
 * bounded or unambiguous.
 *
 * Heuristics and limits:
 *  - phone: 7–15 digits. With `+`/`00` international prefix any grouping is accepted; national
 *    forms need separators (spaces, dashes, dots, parentheses) with at least one group of 3+
 *    digits (or the French `06 12 34 56 78` form), or be a 10–11 digit run starting with 0.
 *    Rejected as non-phones: dates (`2024-05-01`, `01.05.2024`), IP addresses, numbers with
 *    thousands separators (`1.234.567`, `1 000 000`), decimals, groups of single digits, more
 *    than 6 groups. Times (`10:30`) never match because `:` is not a phone separator.
 *    Unformatted national numbers without a leading 0 (`5551234567`) are not detected.
 *  - card: 13–19 digits starting with 2–6, optionally grouped by spaces or dashes in groups of
 *    at least 4 (the last group may be shorter), Luhn-valid.
 *  - iban: upper- or lower-case, optionally grouped by single spaces every 4 characters.
 */
import type { Severity } from '../api.js';
import type { BuiltinPlugin, SettingsProblem } from './types.js';
import { arrayOr, messageOf, settingsCache } from './util.js';

export const PII_KINDS = ['email', 'phone', 'card', 'iban'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export type PiiSettings = { types: PiiKind[]; redact: boolean };

export type PiiFinding = { kind: PiiKind; start: number; end: number; masked: string };

// ---- email --------------------------------------------------------------------------------

const EMAIL_RE =
  /(?<![\w.%+-])[\w.%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

function maskEmail(value: string): string {
  const at = value.indexOf('@');
  return `${value[0]}***${value.slice(at)}`;
}

// ---- phone --------------------------------------------------------------------------------

/** `+`/`00`, then digit groups separated by one or two of space, dash, dot, optional parentheses. */
const PHONE_RE = /(?<![\w+().-])(?:\+ ?)?\(?\d{1,15}\)?(?:[ .-]{1,2}\(?\d{1,15}\)?){0,7}(?!\w)/g;
/** A date at the start: `2024-05-01`, `01.05.2024`, `1/5/24` (possibly followed by a time). */
const DATE_RE = /^(?:\d{4}([-./])\d{1,2}\1\d{1,2}|\d{1,2}([-./])\d{1,2}\2\d{2,4})(?:\s|$)/;
const IP_RE = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const THOUSANDS_RE = /^\d{1,3}(?:[.,]\d{3})+$/;
const SPACED_THOUSANDS_RE = /^\d{1,3}(?: \d{3})+$/;
const DECIMAL_RE = /^\d+[.,]\d+$/;

function isPhone(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '');
  const international = candidate.startsWith('+') || (candidate.startsWith('00') && /\D/.test(candidate));
  const national = international && candidate.startsWith('00') ? digits.slice(2) : digits;
  if (national.length < 7 || national.length > 15) return false;
  if (DATE_RE.test(candidate) || IP_RE.test(candidate) || THOUSANDS_RE.test(candidate) || DECIMAL_RE.test(candidate)) return false;
  // `1 000 000` is a number; `612 345 678` (9+ digits) is more likely a phone
  if (!international && digits.length < 9 && SPACED_THOUSANDS_RE.test(candidate)) return false;
  const groups = candidate.match(/\d+/g) ?? [];
  if (groups.length > 6) return false;
  if (international) return candidate.startsWith('+') ? national.length >= 8 : true;
  if (groups.length === 1) return /^0\d{9,10}$/.test(digits); // unformatted: only trunk-prefixed national numbers
  if (/^0\d(?:[ .-]\d{2}){4}$/.test(candidate)) return true; // French style: 06 12 34 56 78
  // national with separators: groups after the second one need two or more digits
  return groups.slice(2).every((g) => g.length >= 2) && groups.some((g) => g.length >= 3);
}

function maskPhone(value: string): string {
  // keep the international prefix and the country code (`+49`, `0049`; 2 digits when not separated)
  const intl = /^(\+ ?|00)(\d+)/.exec(value);
  const keepHead = intl ? intl[1]!.length + (intl[2]!.length <= 3 ? intl[2]!.length : 2) : 0;
  const digitsTotal = value.replace(/\D/g, '').length;
  let digitIndex = 0;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch >= '0' && ch <= '9') {
      digitIndex++;
      out += i < keepHead || digitIndex > digitsTotal - 2 ? ch : '*';
    } else out += ch;
  }
  return out;
}

// ---- card ---------------------------------------------------------------------------------

const CARD_RE = /(?<![\w+.-])[2-6]\d{3}(?:[ -]?\d){9,15}(?![\w-]|[ ]\d)/g;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** 13–19 digits, unseparated or consistently grouped in fours (the last group may be 3+). */
function cardShaped(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  const separators = new Set(candidate.replace(/\d/g, ''));
  if (separators.size > 1) return false;
  if (separators.size === 1) {
    const groups = candidate.split(/[ -]/);
    if (groups.slice(0, -1).some((g) => g.length < 4) || groups.at(-1)!.length < 3) return false;
  }
  return true;
}

function isCard(candidate: string): boolean {
  return cardShaped(candidate) && luhnValid(candidate.replace(/\D/g, ''));
}

function maskCard(value: string): string {
  const total = value.replace(/\D/g, '').length;
  let seen = 0;
  return value.replace(/\d/g, (d) => (++seen > total - 4 ? d : '*'));
}

// ---- iban ---------------------------------------------------------------------------------

const IBAN_RE = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{4}){2,7}(?:[ ]?[A-Za-z0-9]{1,4})?(?![A-Za-z0-9])/g;

/** IBAN length per country (SWIFT IBAN registry). */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22,
  GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30,
  KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27,
  MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33,
  SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20, YE: 30,
};

export function ibanValid(candidate: string): boolean {
  const iban = candidate.replace(/ /g, '').toUpperCase();
  const expected = IBAN_LENGTHS[iban.slice(0, 2)];
  if (expected !== undefined ? iban.length !== expected : iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const code = rearranged.charCodeAt(i);
    const value = code >= 65 ? code - 55 : code - 48; // A=10 … Z=35
    remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

function maskIban(value: string): string {
  const iban = value.replace(/ /g, '').toUpperCase();
  return `${iban.slice(0, 2)}** **** … ${iban.slice(-4)}`;
}

// ---- detection ----------------------------------------------------------------------------

type Detector = {
  kind: PiiKind;
  re: RegExp;
  accept: (candidate: string) => boolean;
  mask: (value: string) => string;
  /** A rejected candidate of this shape still keeps later detectors off its text (an IBAN with a typo is not a phone number). */
  claims?: (candidate: string) => boolean;
};

/** In priority order: an earlier kind claims the text before a later one sees it. */
const DETECTORS: Detector[] = [
  { kind: 'iban', re: IBAN_RE, accept: ibanValid, mask: maskIban, claims: () => true },
  { kind: 'card', re: CARD_RE, accept: isCard, mask: maskCard, claims: cardShaped },
  { kind: 'email', re: EMAIL_RE, accept: () => true, mask: maskEmail },
  { kind: 'phone', re: PHONE_RE, accept: isPhone, mask: maskPhone },
];

/** Cheap pre-checks: skip a detector when the text cannot contain its kind. */
const HAS_DIGITS_7 = /(?:\d\D{0,3}){7}/;
const HAS_IBAN_START = /[A-Za-z]{2}\d{2}/;

const enabledKinds = settingsCache<Partial<PiiSettings>, Set<PiiKind>>((settings) => {
  const types = Array.isArray(settings.types) ? settings.types : PII_KINDS;
  return new Set(types.filter((t): t is PiiKind => (PII_KINDS as readonly string[]).includes(t)));
});

/** Findings in `text`, ordered by position, never overlapping. */
export function findPii(text: string, kinds: ReadonlySet<PiiKind> = new Set(PII_KINDS)): PiiFinding[] {
  const findings: PiiFinding[] = [];
  const claimed: { start: number; end: number }[] = [];
  const hasAt = text.includes('@');
  const hasDigits = HAS_DIGITS_7.test(text);
  for (const d of DETECTORS) {
    if (!kinds.has(d.kind)) continue;
    if (d.kind === 'email' ? !hasAt : d.kind === 'iban' ? !HAS_IBAN_START.test(text) : !hasDigits) continue;
    for (const m of text.matchAll(d.re)) {
      const start = m.index;
      const end = start + m[0].length;
      if (findings.some((f) => f.start < end && start < f.end) || claimed.some((c) => c.start < end && start < c.end)) continue;
      if (d.accept(m[0])) findings.push({ kind: d.kind, start, end, masked: d.mask(m[0]) });
      else if (d.claims?.(m[0])) claimed.push({ start, end });
    }
  }
  return findings.sort((a, b) => a.start - b.start);
}

export function redact(text: string, findings: readonly PiiFinding[]): string {
  let out = '';
  let last = 0;
  for (const f of findings) {
    out += `${text.slice(last, f.start)}[${f.kind}]`;
    last = f.end;
  }
  return out + text.slice(last);
}

const HIGH: ReadonlySet<PiiKind> = new Set(['card', 'iban']);

export const piiPlugin: BuiltinPlugin<PiiSettings> = {
  manifest: {
    id: 'pii',
    name: 'Personal data',
    version: '1.0.0',
    description: 'Finds email addresses, phone numbers, payment card numbers and IBANs in messages; can redact them.',
    events: ['message.created'],
    settingsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        types: {
          type: 'array',
          description: 'Kinds of personal data to look for.',
          items: { type: 'string', enum: [...PII_KINDS] },
          uniqueItems: true,
          maxItems: PII_KINDS.length,
          default: [...PII_KINDS],
        },
        redact: { type: 'boolean', default: false, description: 'Replace findings in the stored message text with [email], [phone], [card], [iban].' },
      },
    },
  },

  handle(event, ctx) {
    const message = messageOf(event);
    if (!message || !message.content) return null;
    const settings = ctx.settings ?? {};
    const findings = findPii(message.content, enabledKinds(settings));
    if (findings.length === 0) return null;
    const categories = [...new Set(findings.map((f) => f.kind))];
    const severity: Severity = categories.some((k) => HIGH.has(k)) ? 'high' : 'medium';
    return {
      annotations: [{ target: 'message', type: 'pii', score: 1, severity, content: { categories, findings } }],
      ...(settings.redact === true ? { redactedContent: redact(message.content, findings) } : {}),
    };
  },

  validateSettings(settings) {
    const problems: SettingsProblem[] = [];
    arrayOr(settings.types).forEach((t, i) => {
      if (!(PII_KINDS as readonly string[]).includes(t)) problems.push({ field: `types/${i}`, message: `must be one of ${PII_KINDS.join(', ')}` });
    });
    return problems;
  },
};
