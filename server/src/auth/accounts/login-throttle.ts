import type { RateLimits } from '../rate-limit';
import { RateLimitedError, consumeOrThrow } from '../rate-limit';
import type { AccountRow } from './store';
import { emailKey } from './store';
import { sha256 } from './tokens';

/*
 * Password guessing is slowed per account without locking the owner out. Three counts, all in
 * Redis when REDIS_URL is set (else in memory), under hashed keys (no email or address in clear):
 *
 * - per (account, address): at most `pairFailures` failures since that address last signed in
 *   there, in a window of `failureWindowSeconds` from the first; then 429 until the window ends.
 * - per account: every failure from any address counts; past `freeFailures` each failure holds
 *   the account for a back-off that doubles, up to `backoffCapSeconds`. The hold refuses only
 *   addresses that already failed more than `exemptFailures` times on the account: the owner on
 *   another address (or after a typo or two) still signs in while an attacker waits.
 * - per address, over all accounts: the sign-in pages' per-minute limit (login-routes.ts).
 *
 * A success clears its own (account, address) count only. The account's count runs on: were it
 * cleared, the owner signing in would hand a guesser a fresh set of free tries. The account key
 * includes the password hash, so a new password (reset) starts every count afresh.
 */

export interface LoginSchedule {
  freeFailures: number;
  backoffBaseSeconds: number;
  backoffCapSeconds: number;
  exemptFailures: number;
  pairFailures: number;
  failureWindowSeconds: number;
}

export const LOGIN_SCHEDULE: LoginSchedule = {
  freeFailures: 5,
  backoffBaseSeconds: 30,
  backoffCapSeconds: 15 * 60,
  exemptFailures: 2,
  pairFailures: 10,
  failureWindowSeconds: 24 * 60 * 60,
};

/** How long the account is held after its n-th failure in the window. */
export function backoffSeconds(failures: number, s: LoginSchedule = LOGIN_SCHEDULE): number {
  if (failures <= s.freeFailures || s.backoffBaseSeconds <= 0) {
    return 0;
  }
  return Math.min(s.backoffBaseSeconds * 2 ** (failures - s.freeFailures - 1), s.backoffCapSeconds);
}

/** The account's throttle key: the email and (when the account exists) its password hash, hashed. */
export function throttleKey(email: string, row: Pick<AccountRow, 'password_hash'> | undefined): string {
  return sha256(`login:${emailKey(email)}:${row?.password_hash ?? ''}`);
}

export class PasswordThrottle {
  constructor(
    private readonly limits: RateLimits,
    private readonly s: LoginSchedule = LOGIN_SCHEDULE
  ) {}

  /**
   * Lets one attempt from `address` on the account through, or throws a RateLimitedError. The
   * attempt is counted for the pair before the password is checked, so parallel guesses cannot
   * slip past the pair limit; `succeeded` takes it back.
   */
  async admit(key: string, address: string): Promise<void> {
    const pair = pairKey(key, address);
    const counted = await consumeOrThrow(this.pairs(), pair);
    if (counted.consumedPoints - 1 <= this.s.exemptFailures) {
      return;
    }
    const hold = await this.holds().get(key);
    if (hold && hold.consumedPoints > 1) {
      await this.pairs().reward(pair, 1); // refused, so not a guess
      throw new RateLimitedError(hold.msBeforeNext);
    }
  }

  /** Counts a wrong password on the account and holds it for the back-off that follows. */
  async failed(key: string): Promise<void> {
    const counted = await this.failures().penalty(key, 1);
    const wait = backoffSeconds(counted.consumedPoints, this.s);
    if (wait > 0) {
      await this.holds().block(key, wait);
    }
  }

  async succeeded(key: string, address: string): Promise<void> {
    await this.pairs().delete(pairKey(key, address));
  }

  private pairs() {
    return this.limits.limiter('login-pair', this.s.pairFailures, this.s.failureWindowSeconds);
  }

  private failures() {
    return this.limits.limiter('login-account', 1_000_000, this.s.failureWindowSeconds);
  }

  /** Blocked (2 points of 1) while the account is held; `block` sets the expiry. */
  private holds() {
    return this.limits.limiter('login-hold', 1, 1);
  }
}

function pairKey(key: string, address: string): string {
  return sha256(`${key}:${address}`);
}
