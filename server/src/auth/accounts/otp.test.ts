import { OperationOutcomeError } from '@medplum/core';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from '../../db/sql';
import { MAX_CODE_ATTEMPTS, authenticateLoginCode } from './otp';
import type { AccountsHarness } from './test-support';
import { registerVerified, registration, startAccountsHarness, uniqueEmail } from './test-support';

const smsFile = join(mkdtempSync(join(tmpdir(), 'hale-sms-')), 'sms.jsonl');
let h: AccountsHarness;
beforeAll(async () => {
  h = await startAccountsHarness({ SMS_SINK_FILE: smsFile });
});
afterAll(async () => {
  await h.stop();
});

function codeIn(text: string): string {
  const m = /\b(\d{6})\b/.exec(text);
  if (!m?.[1]) {
    throw new Error('no code in message');
  }
  return m[1];
}

async function emailCode(email: string, n: number): Promise<string> {
  expect((await h.post('/auth/login-code', { email, channel: 'email' })).status).toBe(202);
  const mail = await h.mail.waitFor(email, n);
  expect(mail.subject).toBe('Your Hale sign-in code');
  return codeIn(mail.text);
}

/** Any code other than `code`. */
function wrong(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return err.outcome.issue?.[0]?.details?.text ?? '';
    }
    throw err;
  }
  return 'succeeded';
}

describe('one-time sign-in codes', () => {
  test('the right code by email signs in once', async () => {
    const email = uniqueEmail();
    await registerVerified(h, email);
    const code = await emailCode(email, 2);
    expect((await authenticateLoginCode(h.deps, email, code)).email).toBe(email);
    expect(await failure(authenticateLoginCode(h.deps, email, code))).toBe('Invalid email or code');
  });

  test(`${MAX_CODE_ATTEMPTS} wrong codes lock the code, even for the right one afterwards`, async () => {
    const email = uniqueEmail();
    await registerVerified(h, email);
    const code = await emailCode(email, 2);
    for (let i = 0; i < MAX_CODE_ATTEMPTS; i++) {
      expect(await failure(authenticateLoginCode(h.deps, email, wrong(code)))).toBe('Invalid email or code');
    }
    expect(await failure(authenticateLoginCode(h.deps, email, code))).toBe('Invalid email or code');
    const [row] = await h.s.hale.db.query<{ attempts: number }>(sql`
      SELECT attempts FROM account_token t JOIN account a ON a.id = t.account_id
      WHERE a.email = ${email} AND t.purpose = 'login-code'`);
    expect(row?.attempts).toBe(MAX_CODE_ATTEMPTS);
  });

  test('an expired code is refused', async () => {
    const email = uniqueEmail();
    await registerVerified(h, email);
    const code = await emailCode(email, 2);
    await h.s.hale.db.query(sql`
      UPDATE account_token SET expires_at = now() - interval '1 second'
      WHERE purpose = 'login-code' AND account_id = (SELECT id FROM account WHERE email = ${email})`);
    expect(await failure(authenticateLoginCode(h.deps, email, code))).toBe('Invalid email or code');
  });

  test('only the newest code works', async () => {
    const email = uniqueEmail();
    await registerVerified(h, email);
    const older = await emailCode(email, 2);
    const newer = await emailCode(email, 3);
    if (older !== newer) {
      expect(await failure(authenticateLoginCode(h.deps, email, older))).toBe('Invalid email or code');
    }
    expect((await authenticateLoginCode(h.deps, email, newer)).email).toBe(email);
  });

  test('a code by SMS goes to the SMS sink file and signs in', async () => {
    const email = uniqueEmail();
    await registerVerified(h, email, { phone: '+64219876543' });
    expect((await h.post('/auth/login-code', { email, channel: 'sms' })).status).toBe(202);
    let line: { to: string; body: string } | undefined;
    for (let i = 0; i < 200 && !line; i++) {
      const lines = existsSync(smsFile) ? readFileSync(smsFile, 'utf8').trim().split('\n') : [];
      line = lines
        .filter((l) => l.endsWith('}'))
        .map((l) => JSON.parse(l) as { to: string; body: string })
        .find((l) => l.to === '+64219876543');
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(line?.body).toContain('Your Hale sign-in code is');
    expect(line?.body).toContain('@127.0.0.1 #');
    expect((await authenticateLoginCode(h.deps, email, codeIn(line?.body ?? ''))).email).toBe(email);
  });

  test('a code by email confirms an unverified address; unknown addresses get the same answer and nothing', async () => {
    const email = uniqueEmail();
    expect((await h.post('/auth/register', registration(email))).status).toBe(202);
    await h.mail.waitFor(email);
    const code = await emailCode(email, 2);
    expect((await authenticateLoginCode(h.deps, email, code)).emailVerified).toBe(true);

    const nobody = uniqueEmail('nobody');
    const res = await h.post('/auth/login-code', { email: nobody, channel: 'email' });
    expect(res.status).toBe(202);
    expect(await failure(authenticateLoginCode(h.deps, nobody, '123456'))).toBe('Invalid email or code');
    await new Promise((r) => setTimeout(r, 200));
    expect(h.mail.to(nobody)).toHaveLength(0);
  });
});
