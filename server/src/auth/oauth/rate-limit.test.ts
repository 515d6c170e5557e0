import { ConfigError, loadConfig } from '../../config';
import type { TestServer } from '../../test/test-server';
import { LOGIN_SCHEDULE } from '../accounts/login-throttle';
import type { HttpResult } from './test-support';
import {
  Browser,
  PASSWORD,
  authorizeUrl,
  createAccount,
  createClient,
  pkce,
  signIn,
  startOAuthServer,
  tokenRequest,
} from './test-support';

/*
 * Hale takes the client address from the socket (or, with TRUST_PROXY, from the proxy's
 * X-Forwarded-For). Browsers bound to other loopback addresses are other clients; random ones,
 * so that counts left in Redis by an earlier run (or a parallel one) do not meet these.
 */
function loopback(): string {
  const octet = (): number => 1 + Math.floor(Math.random() * 254);
  return `127.${octet()}.${octet()}.${octet()}`;
}

/** A browser from `address` on the sign-in page of a fresh authorization request. */
async function loginPageFrom(s: TestServer, address: string): Promise<{ browser: Browser; page: string }> {
  const { client } = await createClient(s);
  const browser = new Browser(s.hale.url, address);
  const login = await browser.get(
    authorizeUrl(s, { clientId: client.client_id, scope: 'openid', challenge: pkce().challenge })
  );
  expect(login.status).toBe(200);
  return { browser, page: login.body };
}

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe.each([
  ['in memory', {}],
  ['with Redis', { REDIS_URL: redisUrl }],
])('password sign-in %s', (_name, env: Record<string, string>) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startOAuthServer({ AUTH_RATE_LIMIT_PER_MINUTE: '20', ...env }); // the default per-address limit
  });
  afterAll(async () => {
    await s.stop();
  });

  test('20 wrong passwords from one address hold that address, and the owner signs in from another', async () => {
    const account = await createAccount(s);
    const attacker = await loginPageFrom(s, loopback());
    const answers: HttpResult[] = [];
    let page = attacker.page;
    for (let i = 0; i < 20; i++) {
      const res = await signIn(attacker.browser, page, account.email, `wrong password ${i}`);
      answers.push(res);
      page = res.body; // the login page again, with its form
    }
    const free = LOGIN_SCHEDULE.freeFailures + 1; // the sixth failure starts the 30-second hold
    expect(answers.map((r) => r.status)).toEqual([...Array(free).fill(401), ...Array(20 - free).fill(429)]);
    for (const held of answers.slice(free)) {
      const wait = Number(held.headers.get('retry-after'));
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(LOGIN_SCHEDULE.backoffBaseSeconds);
      expect(held.body).toContain('Too many attempts. Try again in a minute.');
    }

    const owner = await loginPageFrom(s, loopback());
    const signedIn = await signIn(owner.browser, owner.page, account.email, PASSWORD);
    expect(signedIn.status).toBe(303);

    // The attacker's address is still held, even with the right password.
    const again = await signIn(attacker.browser, page, account.email, PASSWORD);
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  test('an unknown email is throttled like a known one', async () => {
    const attacker = await loginPageFrom(s, loopback());
    let page = attacker.page;
    const email = `nobody-${process.pid}-${Date.now()}@example.org`;
    const same: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await signIn(attacker.browser, page, email, 'guess');
      same.push(res.status);
      page = res.body;
    }
    expect(same).toEqual([401, 401, 401, 401, 401, 401, 429, 429]);
  });
});

describe('per-address limits', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startOAuthServer({ AUTH_RATE_LIMIT_PER_MINUTE: '1', TRUST_PROXY: 'loopback' });
  });
  afterAll(async () => {
    await s.stop();
  });

  test('the token endpoint answers 429 with an OAuth error once a client address exceeds its limit', async () => {
    const { client } = await createClient(s);
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof tokenRequest>> | undefined;
    for (let i = 0; i < 6; i++) {
      last = await tokenRequest(s, { grant_type: 'refresh_token', refresh_token: 'x', client_id: client.client_id });
      statuses.push(last.status);
    }
    // Five a minute per address (5 × AUTH_RATE_LIMIT_PER_MINUTE) for the token endpoint.
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
    expect(last?.body).toMatchObject({ error: 'temporarily_unavailable' });
    expect(last?.headers.get('cache-control')).toBe('no-store');
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  test('the sign-in pages count each address over all accounts, and only that address', async () => {
    const [one, two] = [await createAccount(s), await createAccount(s)];
    const a = await loginPageFrom(s, loopback());
    const first = await signIn(a.browser, a.page, one.email, 'wrong password');
    expect(first.status).toBe(401);
    const second = await signIn(a.browser, first.body, two.email, PASSWORD);
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
    const b = await loginPageFrom(s, loopback());
    expect((await signIn(b.browser, b.page, two.email, PASSWORD)).status).toBe(303);
  });

  test('behind a trusted proxy, X-Forwarded-For names the client', async () => {
    const account = await createAccount(s);
    const { client } = await createClient(s);
    const url = authorizeUrl(s, { clientId: client.client_id, scope: 'openid', challenge: pkce().challenge });
    const from = async (forwardedFor: string): Promise<number> => {
      const browser = new Browser(s.hale.url, loopback(), { 'x-forwarded-for': forwardedFor });
      const login = await browser.get(url);
      return (await signIn(browser, login.body, account.email, 'wrong password')).status;
    };
    expect(await from('203.0.113.7')).toBe(401);
    expect(await from('203.0.113.7')).toBe(429);
    expect(await from('203.0.113.8')).toBe(401);
  });

  test('TRUST_PROXY names proxies, never "everyone" (which would let any client choose its address)', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(ConfigError);
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
  });
});
