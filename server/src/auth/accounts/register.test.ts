import type { Patient } from '@medplum/fhirtypes';
import { OperationOutcomeError } from '@medplum/core';
import { sql } from '../../db/sql';
import { authenticatePassword } from './login';
import type { AccountsHarness } from './test-support';
import { STRONG_PASSWORD, linkIn, registration, startAccountsHarness, tokenOf, uniqueEmail } from './test-support';

let h: AccountsHarness;
beforeAll(async () => {
  h = await startAccountsHarness();
});
afterAll(async () => {
  await h.stop();
});

async function accountRow(email: string) {
  const rows = await h.s.hale.db.query<Record<string, any>>(
    sql`SELECT * FROM account WHERE lower(email) = lower(${email})`
  );
  return rows;
}

/** What a client can compare between two answers (headers differ only in date and request id). */
function answer(r: { status: number; body: unknown }): { status: number; body: unknown } {
  return { status: r.status, body: r.body };
}

async function outcomeOf(p: Promise<unknown>): Promise<{ status: string; text: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return { status: err.outcome.id ?? '', text: err.outcome.issue?.[0]?.details?.text ?? '' };
    }
    throw err;
  }
  throw new Error('expected an OperationOutcomeError');
}

describe('patient self-registration', () => {
  test('creates an unverified patient account with its own Patient and mails exactly one working link', async () => {
    const email = uniqueEmail();
    const res = await h.post('/auth/register', registration(email));
    expect(res.status).toBe(202);

    const [row, ...others] = await accountRow(email);
    expect(others).toHaveLength(0);
    expect(row).toMatchObject({ roles: ['patient'], status: 'active', email_verified: false, profile_type: 'Patient' });
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);
    const patient = await h.deps.systemRepository().readResource<Patient>('Patient', row?.profile_id);
    expect(patient.birthDate).toBe('1988-04-12');
    expect(patient.name?.[0]).toMatchObject({ given: ['Aroha'], family: 'Ngata' });
    expect(patient.telecom?.map((t) => t.value)).toEqual([email, '+64211234567']);

    const mail = await h.mail.waitFor(email);
    const link = linkIn(mail, `${h.s.hale.url}/auth/verify-email?token=`);
    expect(mail.html).toContain('verify-email?token=');
    // The page behind the link only shows a button; pressing it (a form post) confirms.
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post" action="verify-email">');
    const confirm = await fetch(`${h.s.hale.url}/auth/verify-email`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokenOf(link) }).toString(),
    });
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain('Email address confirmed');
    expect((await accountRow(email))[0]?.email_verified).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.mail.to(email)).toHaveLength(1);
  });

  test('sign-in is refused until the address is confirmed, with one message for unknown email and wrong password', async () => {
    const email = uniqueEmail();
    await h.post('/auth/register', registration(email));
    const unknown = await outcomeOf(authenticatePassword(h.deps, uniqueEmail('nobody'), STRONG_PASSWORD, '127.0.0.1'));
    const wrong = await outcomeOf(authenticatePassword(h.deps, email, 'not the password at all', '127.0.0.1'));
    expect(unknown).toEqual({ status: 'unauthorized', text: 'Invalid email or password' });
    expect(wrong).toEqual(unknown);
    expect(await outcomeOf(authenticatePassword(h.deps, email, STRONG_PASSWORD, '127.0.0.1'))).toEqual({
      status: 'forbidden',
      text: 'Email not verified',
    });

    const token = tokenOf(linkIn(await h.mail.waitFor(email), `${h.s.hale.url}/auth/verify-email`));
    expect((await h.post('/auth/verify-email', { token })).status).toBe(200);
    const account = await authenticatePassword(h.deps, email.toUpperCase(), STRONG_PASSWORD, '127.0.0.1');
    expect(account).toMatchObject({ email, emailVerified: true, status: 'active', roles: ['patient'] });
    expect(account.profile?.type).toBe('Patient');
    expect(JSON.stringify(account)).not.toContain('argon2');
  });

  test('an unknown email takes about as long to refuse as a wrong password (a dummy hash is verified)', async () => {
    const email = uniqueEmail();
    await h.post('/auth/register', registration(email));
    const time = async (who: string): Promise<number> => {
      const start = process.hrtime.bigint();
      await authenticatePassword(h.deps, who, 'not the password at all', '127.0.0.1').catch(() => undefined);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await time(email));
      unknown.push(await time(uniqueEmail('nobody')));
    }
    // Without the dummy hash an unknown email answers in ~1 ms against tens of ms for argon2.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
  });

  test.each([
    ['too short', 'Tr0ub4dor&3'],
    ['a listed password', 'password1234'],
    ['a common word with digits and symbols', 'Welcome2024!!'],
    ['a keyboard walk', 'qwertyuiop123'],
    ['a repetition', 'abcabcabcabc'],
    ['the email address', 'refuse.me@example.org!'],
    ['the name', 'Aroha19880412'],
  ])('refuses %s as password, creating nothing', async (_label, password) => {
    const email = 'refuse.me@example.org';
    const res = await h.post('/auth/register', registration(email, { password }));
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.text).toMatch(/password/i);
    expect(JSON.stringify(res.body)).not.toContain(password);
    expect(await accountRow(email)).toHaveLength(0);
  });

  test('a second sign-up with the address in other case answers the same, creates nothing and mails the owner', async () => {
    const email = uniqueEmail();
    const first = await h.post('/auth/register', registration(email));
    const second = await h.post('/auth/register', registration(email.toUpperCase(), { birthDate: '1970-01-01' }));
    expect(answer(second)).toEqual(answer(first));
    expect(await accountRow(email)).toHaveLength(1);
    const notice = await h.mail.waitFor(email, 2);
    expect(notice.subject).toBe('Your Hale account');
    expect(linkIn(notice, `${h.s.hale.url}/auth/reset-password?token=`)).toBeTruthy();
  });

  test('refuses malformed input with 400 naming the fields', async () => {
    const res = await h.post(
      '/auth/register',
      registration('not-an-email', { phone: '021 123', birthDate: '2999-01-01' })
    );
    expect(res.status).toBe(400);
    const text: string = res.body.issue[0].details.text;
    expect(text).toContain('email');
    expect(text).toContain('phone');
    expect(text).toContain('birthDate');
  });
});

describe('email verification links', () => {
  test('work once', async () => {
    const email = uniqueEmail();
    await h.post('/auth/register', registration(email));
    const token = tokenOf(linkIn(await h.mail.waitFor(email), `${h.s.hale.url}/auth/verify-email`));
    expect((await h.post('/auth/verify-email', { token })).status).toBe(200);
    const again = await h.post('/auth/verify-email', { token });
    expect(again.status).toBe(400);
    expect(again.body.issue[0].details.text).toBe('This link is invalid, was already used, or has expired');
  });

  test('expire', async () => {
    const email = uniqueEmail();
    await h.post('/auth/register', registration(email));
    const token = tokenOf(linkIn(await h.mail.waitFor(email), `${h.s.hale.url}/auth/verify-email`));
    await h.s.hale.db.query(sql`
      UPDATE account_token SET expires_at = now() - interval '1 second'
      WHERE account_id = (SELECT id FROM account WHERE email = ${email})`);
    expect((await h.post('/auth/verify-email', { token })).status).toBe(400);
    expect((await accountRow(email))[0]?.email_verified).toBe(false);
  });

  test('resend mails a new link and retires the old one; unknown and verified addresses get the same answer', async () => {
    const email = uniqueEmail();
    await h.post('/auth/register', registration(email));
    const oldToken = tokenOf(linkIn(await h.mail.waitFor(email), `${h.s.hale.url}/auth/verify-email`));
    const resent = await h.post('/auth/resend-verification', { email });
    expect(resent.status).toBe(202);
    const newToken = tokenOf(linkIn(await h.mail.waitFor(email, 2), `${h.s.hale.url}/auth/verify-email`));
    expect(newToken).not.toBe(oldToken);
    expect((await h.post('/auth/verify-email', { token: oldToken })).status).toBe(400);
    expect((await h.post('/auth/verify-email', { token: newToken })).status).toBe(200);

    const nobody = uniqueEmail('nobody');
    expect(answer(await h.post('/auth/resend-verification', { email: nobody }))).toEqual(answer(resent));
    expect(answer(await h.post('/auth/resend-verification', { email }))).toEqual(answer(resent));
    await new Promise((r) => setTimeout(r, 300));
    expect(h.mail.to(nobody)).toHaveLength(0);
    expect(h.mail.to(email)).toHaveLength(2);
  });
});
