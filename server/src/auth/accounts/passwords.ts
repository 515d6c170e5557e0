import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { Algorithm } from '@node-rs/argon2';
import { hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { contextWords, weakPasswordReason } from './weak-passwords';

export const MIN_PASSWORD_LENGTH = 12;
/** Long enough for any passphrase; bounded so a huge body cannot make argon2 hash megabytes. */
export const MAX_PASSWORD_LENGTH = 256;

// argon2id (the package's default, spelled out because it is the point): `Algorithm` is a const
// enum, which isolatedModules cannot inline, hence the literal. Memory and passes are the OWASP
// minimum for argon2id (19 MiB, 2 passes, 1 lane).
const ARGON2ID = 2 as Algorithm;
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export async function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** A hash of a random password, verified against when an email is unknown so that answer takes as long. */
let dummyHash: Promise<string> | undefined;

/**
 * Constant-time by construction (argon2 compares digests in constant time). With no hash
 * (unknown email, or an account without a password) a dummy hash is verified instead so the
 * time taken does not tell whether the account exists; the answer is then always false.
 */
export async function verifyPassword(storedHash: string | null | undefined, password: string): Promise<boolean> {
  dummyHash ??= hashPassword(randomBytes(32).toString('base64url'));
  const target = storedHash ?? (await dummyHash);
  const candidate = password.length > MAX_PASSWORD_LENGTH ? '' : password;
  let ok: boolean;
  try {
    ok = await verify(target, candidate);
  } catch {
    ok = false; // a malformed stored hash is a failed sign-in, not a 500 that tells it apart
  }
  return ok && storedHash !== null && storedHash !== undefined && candidate !== '';
}

/**
 * Throws 400 when the password is too short, too long or easy to guess. `about` are the email
 * and name of the account: a password built from them is refused too.
 */
export function assertAcceptablePassword(password: string, about: readonly (string | null | undefined)[]): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new OperationOutcomeError(
      badRequest(`Password must be at least ${MIN_PASSWORD_LENGTH} characters long`, 'password')
    );
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new OperationOutcomeError(
      badRequest(`Password must be at most ${MAX_PASSWORD_LENGTH} characters long`, 'password')
    );
  }
  const lower = password.toLowerCase();
  const emails = about.filter((a): a is string => Boolean(a?.includes('@')));
  if (emails.some((e) => lower.includes(e.trim().toLowerCase()))) {
    refuse('it contains your email address');
  }
  const reason = weakPasswordReason(password, contextWords(about.map((a) => (a?.includes('@') ? a.split('@')[0] : a))));
  if (reason) {
    refuse(reason);
  }
}

function refuse(reason: string): never {
  throw new OperationOutcomeError(badRequest(`Choose a different password: ${reason}`, 'password'));
}
