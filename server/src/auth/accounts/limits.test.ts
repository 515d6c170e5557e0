import { Redis } from 'ioredis';
import { startTestServer } from '../../test/test-server';
import type { AuthDeps } from '../deps';
import { RateLimits } from '../rate-limit';
import { authenticatePassword } from './login';
import type { AccountsHarness } from './test-support';
import { STRONG_PASSWORD, registration, startAccountsHarness, uniqueEmail } from './test-support';

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
    // Endpoints count separately.
    expect((await h.post('/auth/resend-verification', { email: uniqueEmail() })).status).toBe(202);
  });

  test('password sign-in is limited per email, whoever asks', async () => {
    const email = uniqueEmail();
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      outcomes.push(
        await authenticatePassword(h.deps, email, STRONG_PASSWORD).then(
          () => 'signed in',
          (e: Error) => e.message
        )
      );
    }
    expect(outcomes.slice(0, 3)).toEqual(Array(3).fill('Invalid email or password'));
    expect(outcomes[3]).toMatch(/too many requests/i);
  });
});

describe('rate limits with Redis', () => {
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  let h: AccountsHarness;
  const clients: Redis[] = [];
  beforeAll(async () => {
    h = await startAccountsHarness();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit()));
    await h.stop();
  });

  test('are shared by every replica on one Redis', async () => {
    // Two limiters on one Redis, as two Hale replicas have.
    const replica = (): AuthDeps => {
      const redis = new Redis(redisUrl);
      clients.push(redis);
      return { ...h.deps, redis, rateLimits: new RateLimits(redis, 2) };
    };
    const [a, b] = [replica(), replica()];
    const email = uniqueEmail(`redis-${process.pid}`);
    const attempt = (deps: AuthDeps) =>
      authenticatePassword(deps, email, STRONG_PASSWORD).catch((e: Error) => e.message);
    expect(await attempt(a)).toBe('Invalid email or password');
    expect(await attempt(b)).toBe('Invalid email or password');
    expect(await attempt(a)).toMatch(/too many requests/i);
    expect(await attempt(b)).toMatch(/too many requests/i);
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
