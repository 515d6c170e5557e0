import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Rejects passwords that attackers try first (NIST SP 800-63B §5.1.1.2: compare against
 * "passwords obtained from previous breach corpuses, dictionary words, repetitive or sequential
 * characters, context-specific words"). A bundled list of common passwords, and patterns that
 * turn each listed word into the thousands of variants people actually type.
 */

const COMMON: ReadonlySet<string> = new Set(
  readFileSync(join(__dirname, 'common-passwords.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim().toLowerCase())
    .filter((l) => l !== '' && !l.startsWith('#'))
);

/** Keyboard rows and walks, alphabets and digit runs; a password inside one (either direction) is a walk. */
const WALKS = [
  '01234567890123456789',
  'abcdefghijklmnopqrstuvwxyz',
  'qwertyuiopasdfghjklzxcvbnm',
  'qwertzuiopasdfghjklyxcvbnm',
  'azertyuiopqsdfghjklmwxcvbn',
  '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p',
  'qazwsxedcrfvtgbyhnujmikolp',
  '1q2w3e4r5t6y7u8i9o0p',
  'q1w2e3r4t5y6u7i8o9p0',
  'zaq12wsxcde34rfvbgt56yhnmju78ik,lo9',
  '!@#$%^&*()_+',
  '1234567890-=qwertyuiop[]asdfghjkl;zxcvbnm,./',
  'qweasdzxc',
  '1234qwerasdfzxcv',
];

const LEET: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '!': 'i',
};

function deleet(s: string): string {
  return s.replace(/[013457@$!]/g, (c) => LEET[c] as string);
}

function isWalk(s: string): boolean {
  return s.length >= 4 && WALKS.some((w) => w.includes(s) || [...w].reverse().join('').includes(s));
}

/** The shortest unit the string repeats ("abcabcabc" → "abc"); the string itself when it does not repeat. */
function repeatedUnit(s: string): string {
  const m = /^(.+?)\1+$/s.exec(s);
  return m?.[1] ?? s;
}

/** A common word, a short unit repeated ("abcabcabc"), a repetition of a common word, or a walk. */
function isWeakCore(core: string, context: readonly string[]): boolean {
  if (core === '') {
    return false;
  }
  const unit = repeatedUnit(core);
  if (unit !== core && unit.length <= 5) {
    return true;
  }
  return COMMON.has(core) || COMMON.has(unit) || context.includes(unit) || isWalk(unit);
}

/** Words of the person or the service that must not be the password: email local part, name … */
export function contextWords(values: readonly (string | null | undefined)[]): string[] {
  const words = new Set<string>(['hale']);
  for (const v of values) {
    const lower = (v ?? '').toLowerCase();
    // "john.smith" gives john, smith and johnsmith.
    for (const w of [...lower.split(/[^a-z0-9]+/), lower.replace(/[^a-z0-9]/g, '')]) {
      if (w.length >= 3) {
        words.add(w);
      }
    }
  }
  return [...words];
}

/**
 * Why the password is too easy to guess, or undefined. `context` are lower-case words of the
 * account (see contextWords). Only shapes that real cracking dictionaries and rules cover are
 * refused: a long passphrase of ordinary words passes.
 */
export function weakPasswordReason(password: string, context: readonly string[] = []): string | undefined {
  const p = password.toLowerCase();
  if (COMMON.has(p) || COMMON.has(p.replace(/\s+/g, ''))) {
    return 'it is on a list of common or breached passwords';
  }
  if (isWeakCore(p, [])) {
    return 'it is a repeated or sequential pattern';
  }
  // Digits and symbols around a word ("Password2024!", "!!iloveyou!!", "P@ssw0rd1234").
  const core = p.replace(/^[^a-z]+|[^a-z]+$/g, '');
  const letters = deleet(core).replace(/[^a-z]/g, '');
  // Words split on the raw digits/symbols ("summer2024summer"), before leet digits become letters.
  const words = core.split(/[^a-z]+/).filter((w) => w !== '');
  const oneWord = words.length > 0 && words.every((w) => w === words[0]);
  if (context.includes(letters) || (oneWord && context.includes(words[0] as string))) {
    return 'it is based on your name or email address';
  }
  if (isWeakCore(letters, []) || (oneWord && isWeakCore(words[0] as string, []))) {
    return 'it is a common word, name or pattern with digits or symbols added';
  }
  // Very few letters around a digit run ("ab1234567890", "x000000000000").
  const rest = p.replace(/[a-z]/g, '');
  if (letters.length <= 3 && (isWalk(rest) || repeatedUnit(rest).length <= 2)) {
    return 'it is a repeated or sequential pattern';
  }
  return undefined;
}
