import type { Browser, Page } from 'playwright-core';
import type { AccountsHarness } from '../../server/src/auth/accounts/test-support';
import { STRONG_PASSWORD, linkIn, startAccountsHarness } from '../../server/src/auth/accounts/test-support';
import { PASSWORD, createAccount } from '../../server/src/auth/oauth/test-support';
import { launchChromium } from './browser';
import {
  backToPortal,
  describeInBrowser,
  expectAccessible,
  expectPhoneSized,
  openHaleSignIn,
  signInAtHale,
} from './portal-support';

/*
 * Password reset and sign-in with a one-time code, in Chromium against a real Hale on PostgreSQL, with the mails
 * read from a real SMTP server. The reset is the portal's own two screens; the code is typed on Hale's sign-in page
 * (the authorization server's: the portal never handles a password or a code).
 */

async function freshPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  return context.newPage();
}

function codeIn(text: string): string {
  const code = /\b(\d{6})\b/.exec(text)?.[1];
  if (!code) {
    throw new Error(`no code in "${text}"`);
  }
  return code;
}

describeInBrowser('account screens in Chromium', () => {
  let h: AccountsHarness;
  let browser: Browser;

  beforeAll(async () => {
    h = await startAccountsHarness();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  test('a patient who forgot their password gets a link by email, chooses a new one on the portal and signs in with it', async () => {
    const account = await createAccount(h.s, { name: 'Aroha Ngata' });
    const page = await freshPage(browser);
    await page.goto(`${h.s.hale.url}/signin`);
    // Hale's own sign-in page links to the portal's reset screen.
    await openHaleSignIn(page);
    await expectAccessible(page);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    await expectAccessible(page);
    await page.getByLabel('Email').fill(account.email);
    await page.getByRole('button', { name: 'Send me a reset link' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `If ${account.email} has a Hale account` })
      .waitFor();
    await expectAccessible(page);

    // The mail's link is Hale's /auth/reset-password, which hands the token to the portal's screen.
    const link = linkIn(await h.mail.waitFor(account.email), `${h.s.hale.url}/auth/reset-password?token=`);
    await page.goto(link);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    // The token is gone from the address bar once read.
    expect(new URL(page.url()).search).toBe('');
    await expectAccessible(page);
    await expectPhoneSized(page);

    // The server's password policy refuses a common password: its sentence is shown, and the link still works.
    await page.getByLabel('New password').fill('password123456');
    await page.getByRole('button', { name: 'Set my new password' }).click();
    const refusal = await page.getByRole('alert').innerText();
    expect(refusal).toMatch(/password/i);
    await expectAccessible(page);
    await page.getByLabel('New password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Set my new password' }).click();
    await page.getByRole('status').filter({ hasText: 'Your new password works now' }).waitFor();
    await expectAccessible(page);
    expect((await h.mail.waitFor(account.email, 2)).subject).toBe('Your Hale password was changed');

    // The link is single use.
    await page.goto(link);
    await page.getByLabel('New password').fill('another quiet lantern 58');
    await page.getByRole('button', { name: 'Set my new password' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'This link is invalid, was already used, or has expired.' })
      .waitFor();
    await page.getByRole('link', { name: 'Send me a new reset link' }).waitFor();

    // The old password no longer signs in; the new one does.
    await page.goto(`${h.s.hale.url}/signin`);
    await openHaleSignIn(page);
    const form = page.getByRole('group', { name: 'With your password' });
    await form.getByLabel('Email').fill(account.email);
    await form.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid email or password' }).waitFor();
    await page.goto(`${h.s.hale.url}/signin`);
    await signInAtHale(page, account.email, STRONG_PASSWORD);
    await page.getByRole('heading', { name: 'My health' }).waitFor();
    await page.context().close();
  });

  test('a reset screen opened without the link says what to do, and asking for a link says the same for an unknown address', async () => {
    const page = await freshPage(browser);
    await page.goto(`${h.s.hale.url}/reset-password`);
    await page.getByRole('alert').filter({ hasText: 'This page needs the link from the reset email.' }).waitFor();
    await expectAccessible(page);
    await page.getByRole('link', { name: 'Send me a new reset link' }).click();
    await page.getByLabel('Email').fill('nobody.here@example.org');
    await page.getByRole('button', { name: 'Send me a reset link' }).click();
    await page.getByRole('status').filter({ hasText: 'If nobody.here@example.org has a Hale account' }).waitFor();
    expect(h.mail.to('nobody.here@example.org')).toHaveLength(0);
    await page.context().close();
  });

  test('a patient signs in with a one-time code by email: a wrong code is refused with a sentence, the mailed one signs in', async () => {
    const account = await createAccount(h.s, { name: 'Aroha Ngata' });
    const page = await freshPage(browser);
    await page.goto(`${h.s.hale.url}/signin`);
    await expectAccessible(page);
    await openHaleSignIn(page);
    const byCode = page.getByRole('group', { name: 'Or get a one-time code' });
    await byCode.getByLabel('Email').fill(account.email);
    await byCode.getByRole('button', { name: 'Email me a code' }).click();
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    await expectAccessible(page);
    await expectPhoneSized(page);

    const code = codeIn((await h.mail.waitFor(account.email)).text);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await page.getByLabel('Code').fill(wrong);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid email or code' }).waitFor();
    await expectAccessible(page);

    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await backToPortal(page);
    await page.getByRole('heading', { name: 'My health' }).waitFor();
    await expectAccessible(page);
    await page.context().close();
  });
});
