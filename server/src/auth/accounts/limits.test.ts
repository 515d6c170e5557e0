import { Redis } from 'ioredis';
import { startTestServer } from '../../test/test-server';
import { RateLimitedError, RateLimits } from '../rate-limit';
import type { LoginSchedule } from './login-throttle';
import { LOGIN_SCHEDULE, PasswordThrottle, backoffSeconds, throttleKey } from './login-throttle';
import type { AccountsHarness } from './test-support';
import { registration, startAccountsHarness, uniqueEmail } from './test-support';

describe('rate limits', () => {
  let h: AccountsHarness;
  beforeAll(async () => {
    h = await startAccountsHarness({ AUTH_RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('an endpoint answers 429 with an OperationOutcome past the per-minute limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await h.post('/auth/forgot-password', { email: uniqueEmail() })).status);
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
    const res = await h.post('/auth/forgot-password', { email: uniqueEmail() });
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    // Endpoints count separately.
    expect((await h.post('/auth/resend-verification', { email: uniqueEmail() })).status).toBe(202);
  });
});

describe('the password throttle', () => {
  // The guesses one account can take in a day, were every failure followed at once by the next
  // guess from addresses the back-off holds: the free failures, then one each time the hold ends.
  const guessesPerDay = (s: LoginSchedule): number => {
    let guesses = 0;
    for (let t = 0; t < s.failureWindowSeconds; t += backoffSeconds(guesses, s)) {
      guesses++;
    }
    return guesses;
  };

  test('its schedule leaves a guesser 105 guesses a day at an account, not 28,800', () => {
    expect([5, 6, 7, 8, 9, 10, 11, 12, 50].map((n) => backoffSeconds(n))).toEqual([
      0, 30, 60, 120, 240, 480, 900, 900, 900,
    ]);
    const perDay = guessesPerDay(LOGIN_SCHEDULE);
    expect(perDay).toBe(105);
    expect(perDay).toBeLessThan(28_800 / 250);
    // One address alone: the (account, address) limit, far lower still.
    expect(LOGIN_SCHEDULE.pairFailures).toBe(10);
    // Each fresh address adds the few failures the hold lets through (a typo or two of the owner's).
    expect(LOGIN_SCHEDULE.exemptFailures + 1).toBe(3);
  });

  test('a new password starts the counts afresh (the key includes the password hash)', () => {
    const email = uniqueEmail();
    expect(throttleKey(email, { password_hash: 'a' })).not.toBe(throttleKey(email, { password_hash: 'b' }));
    expect(throttleKey(email.toUpperCase(), undefined)).toBe(throttleKey(email, undefined));
  });

  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const clients: Redis[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit()));
  });
  const store = (kind: 'memory' | 'Redis'): RateLimits => {
    if (kind === 'memory') {
      return new RateLimits(undefined, 20);
    }
    const redis = new Redis(redisUrl);
    clients.push(redis);
    return new RateLimits(redis, 20);
  };
  const refusal = (p: Promise<unknown>): Promise<number | string> =>
    p.then(
      () => 'admitted',
      (e: unknown) => (e instanceof RateLimitedError ? e.retryAfterSeconds : String(e))
    );

  describe.each(['memory', 'Redis'] as const)('in %s', (kind) => {
    test('one address gets pairFailures failures at an account, then waits out the window; others do not', async () => {
      // No back-off, to reach the (account, address) limit without waiting.
      const throttle = new PasswordThrottle(store(kind), { ...LOGIN_SCHEDULE, backoffBaseSeconds: 0 });
      const key = throttleKey(uniqueEmail(), undefined);
      for (let i = 0; i < LOGIN_SCHEDULE.pairFailures; i++) {
        await throttle.admit(key, '192.0.2.1');
        await throttle.failed(key);
      }
      const wait = await refusal(throttle.admit(key, '192.0.2.1'));
      expect(wait).toBeGreaterThan(23 * 3600);
      expect(await refusal(throttle.admit(key, '192.0.2.2'))).toBe('admitted');
      // The other address's success clears its own count only.
      await throttle.succeeded(key, '192.0.2.2');
      expect(await refusal(throttle.admit(key, '192.0.2.1'))).toEqual(expect.any(Number));
    });

    test('the back-off holds addresses that failed more than twice, and lets the owner through', async () => {
      const throttle = new PasswordThrottle(store(kind));
      const key = throttleKey(uniqueEmail(), undefined);
      for (let i = 0; i < LOGIN_SCHEDULE.freeFailures + 1; i++) {
        await throttle.admit(key, '192.0.2.1');
        await throttle.failed(key);
      }
      const wait = await refusal(throttle.admit(key, '192.0.2.1'));
      expect(wait).toBeGreaterThan(25);
      expect(wait).toBeLessThanOrEqual(30);
      // The owner elsewhere, mistyping twice (each failure doubling the hold), is still let through.
      for (let i = 0; i < LOGIN_SCHEDULE.exemptFailures; i++) {
        expect(await refusal(throttle.admit(key, '192.0.2.9'))).toBe('admitted');
        await throttle.failed(key);
      }
      expect(await refusal(throttle.admit(key, '192.0.2.9'))).toBe('admitted');
      await throttle.succeeded(key, '192.0.2.9');
      expect(await refusal(throttle.admit(key, '192.0.2.1'))).toBeGreaterThan(100); // 8 failures: 120 s
    });
  });

  test('replicas on one Redis share the counts', async () => {
    const a = new PasswordThrottle(store('Redis'));
    const b = new PasswordThrottle(store('Redis'));
    const key = throttleKey(uniqueEmail(`redis-${process.pid}`), undefined);
    for (let i = 0; i < LOGIN_SCHEDULE.freeFailures + 1; i++) {
      await (i % 2 ? a : b).admit(key, '192.0.2.1');
      await (i % 2 ? b : a).failed(key);
    }
    expect(await refusal(a.admit(key, '192.0.2.1'))).toEqual(expect.any(Number));
    expect(await refusal(b.admit(key, '192.0.2.1'))).toEqual(expect.any(Number));
  });
});

describe('a production server without SMTP_URL', () => {
  test('refuses the flows that must mail with 503, and says why', async () => {
    const s = await startTestServer({ NODE_ENV: 'production', GRAPHQL_WARMUP: 'false' });
    try {
      const url = `${s.hale.url}/auth`;
      const register = await s.request('POST', `${url}/register`, registration(uniqueEmail()));
      expect(register.status).toBe(503);
      expect(register.body.issue[0].details.text).toContain('SMTP_URL');
      expect((await s.request('POST', `${url}/forgot-password`, { email: uniqueEmail() })).status).toBe(503);
      const sms = await s.request('POST', `${url}/login-code`, { email: uniqueEmail(), channel: 'sms' });
      expect(sms.status).toBe(503);
    } finally {
      await s.stop();
    }
  });
});
