import { sql } from '../../db/sql';
import { portalBuilt } from '../../portal/static-files';
import { authenticatePassword } from './login';
import type { AccountsHarness } from './test-support';
import { STRONG_PASSWORD, linkIn, registerVerified, startAccountsHarness, tokenOf, uniqueEmail } from './test-support';

let h: AccountsHarness;
beforeAll(async () => {
  h = await startAccountsHarness();
});
afterAll(async () => {
  await h.stop();
});

const NEW_PASSWORD = 'marble owl sings at dawn 7';

async function resetToken(email: string, n: number): Promise<string> {
  expect((await h.post('/auth/forgot-password', { email })).status).toBe(202);
  return tokenOf(linkIn(await h.mail.waitFor(email, n), `${h.s.hale.url}/auth/reset-password?token=`));
}

describe('password reset', () => {
  test('a reset link sets a new password once; the old password stops working', async () => {
    const email = uniqueEmail();
    await registerVerified(h, email);
    const token = await resetToken(email, 2);
    // The mail's link opens a page that only POSTs the token: the portal's screen when Hale serves the portal.
    const page = await fetch(`${h.s.hale.url}/auth/reset-password?token=${token}`, { redirect: 'manual' });
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const served = page.status === 303 ? page.headers.get('location') : await page.text();
    expect(served).toContain(portalBuilt() ? `/reset-password?token=${token}` : 'name="password"');

    const res = await h.post('/auth/reset-password', { token, password: NEW_PASSWORD });
    expect(res.status).toBe(200);
    await expect(authenticatePassword(h.deps, email, STRONG_PASSWORD, '127.0.0.1')).rejects.toThrow(
      'Invalid email or password'
    );
    expect((await authenticatePassword(h.deps, email, NEW_PASSWORD, '127.0.0.1')).email).toBe(email);
    expect((await h.mail.waitFor(email, 3)).subject).toBe('Your Hale password was changed');

    const reuse = await h.post('/auth/reset-password', { token, password: 'another fine passphrase 9' });
    expect(reuse.status).toBe(400);
    expect((await authenticatePassword(h.deps, email, NEW_PASSWORD, '127.0.0.1')).email).toBe(email);
  });

  test('using one reset link retires the other outstanding ones', async () => {
    const email = uniqueEmail();
    await registerVerified(h, email);
    const first = await resetToken(email, 2);
    const second = await resetToken(email, 3);
    expect((await h.post('/auth/reset-password', { token: second, password: NEW_PASSWORD })).status).toBe(200);
    expect((await h.post('/auth/reset-password', { token: first, password: NEW_PASSWORD })).status).toBe(400);
  });

  test('a weak password is refused and leaves the link usable', async () => {
    const email = uniqueEmail();
    await registerVerified(h, email);
    const token = await resetToken(email, 2);
    const weak = await h.post('/auth/reset-password', { token, password: 'Password2024!' });
    expect(weak.status).toBe(400);
    expect((await h.post('/auth/reset-password', { token, password: NEW_PASSWORD })).status).toBe(200);
  });

  test('an expired reset link is refused', async () => {
    const email = uniqueEmail();
    await registerVerified(h, email);
    const token = await resetToken(email, 2);
    await h.s.hale.db.query(sql`
      UPDATE account_token SET expires_at = now() - interval '1 second'
      WHERE purpose = 'reset-password' AND account_id = (SELECT id FROM account WHERE email = ${email})`);
    expect((await h.post('/auth/reset-password', { token, password: NEW_PASSWORD })).status).toBe(400);
  });

  test('an unknown address gets the same answer and no mail', async () => {
    const email = uniqueEmail();
    await registerVerified(h, email);
    const known = await h.post('/auth/forgot-password', { email });
    const nobody = uniqueEmail('nobody');
    const unknown = await h.post('/auth/forgot-password', { email: nobody });
    expect({ status: unknown.status, body: unknown.body }).toEqual({ status: known.status, body: known.body });
    await h.mail.waitFor(email, 2);
    expect(h.mail.to(nobody)).toHaveLength(0);
  });

  test('a reset confirms an address that was never verified (the link came by mail)', async () => {
    const email = uniqueEmail();
    expect((await h.post('/auth/register', { ...registrationOf(email) })).status).toBe(202);
    const token = await resetToken(email, 2);
    expect((await h.post('/auth/reset-password', { token, password: NEW_PASSWORD })).status).toBe(200);
    expect((await authenticatePassword(h.deps, email, NEW_PASSWORD, '127.0.0.1')).emailVerified).toBe(true);
  });

  test('a form post from the reset page answers with a page', async () => {
    const email = uniqueEmail();
    await registerVerified(h, email);
    const token = await resetToken(email, 2);
    const res = await fetch(`${h.s.hale.url}/auth/reset-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, password: 'Password2024!' }).toString(),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('Choose a different password');
  });
});

function registrationOf(email: string): Record<string, unknown> {
  return { name: 'Mere Tane', email, phone: '+64211234567', birthDate: '1990-02-03', password: STRONG_PASSWORD };
}
