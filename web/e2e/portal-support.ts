import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { AccountsHarness } from '../../server/src/auth/accounts/test-support';
import { startAccountsHarness } from '../../server/src/auth/accounts/test-support';
import { CHROMIUM, chromiumAvailable, launchChromium, seriousViolations } from './browser';

/*
 * What the portal's browser tests share: whether they can run, axe, the phone-width check, screenshots for the
 * docs and Hale's own sign-in pages.
 */

const built = existsSync(join(__dirname, '..', 'dist', 'index.html'));
if (!chromiumAvailable || !built) {
  // Loud on purpose: these are the only tests of the portal in a browser.
  console.warn(
    `\n*** SKIPPING the portal browser tests: ${!chromiumAvailable ? `${CHROMIUM} is missing` : 'web/dist is not built (npm run build:web)'} ***\n`
  );
}

/** `describe` when Chromium and the build are there (`npm test` builds the portal first), else `describe.skip`. */
export const describeInBrowser = chromiumAvailable && built ? describe : describe.skip;

export async function expectAccessible(page: Page): Promise<void> {
  expect(await seriousViolations(page)).toEqual([]);
}

/** The screen at a 360 px phone's width: nothing wider than the window, and axe still finds nothing serious. */
export async function expectPhoneSized(page: Page): Promise<void> {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 800 });
  // Charts follow the width on their ResizeObserver's next frame: wait for the layout, not a fixed time. If it
  // never fits, the check below names the elements that stick out.
  await page
    .waitForFunction('document.documentElement.scrollWidth <= 360', undefined, { timeout: 5000 })
    .catch(() => undefined);
  const wide = await page.evaluate<string[]>(
    `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 361).slice(0, 5).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`
  );
  expect(wide).toEqual([]);
  await expectAccessible(page);
  if (before) {
    await page.setViewportSize(before);
  }
}

/** With PORTAL_SCREENSHOTS=<dir>, saves the screen as <dir>/<name>.png (how docs/screenshots/ is made). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env['PORTAL_SCREENSHOTS'];
  if (dir) {
    await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
  }
}

/** From the portal's sign-in screen to Hale's own (server-rendered) sign-in page. */
export async function openHaleSignIn(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/oauth2\/authorize/);
}

/** After Hale accepted the password or code: its consent page the first time this app asks, then the portal. */
export async function backToPortal(page: Page): Promise<void> {
  const allow = page.getByRole('button', { name: 'Allow' });
  const back = page.waitForURL((url) => url.pathname !== '/signin' && !url.pathname.startsWith('/oauth2'), {
    timeout: 20000,
  });
  await Promise.race([allow.waitFor({ timeout: 20000 }).then(() => allow.click()), back]);
  await back;
}

/** Signs in through Hale's sign-in page with a password. */
export async function signInAtHale(page: Page, email: string, password: string): Promise<void> {
  await openHaleSignIn(page);
  const form = page.getByRole('group', { name: 'With your password' });
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await backToPortal(page);
}

/** Opens the portal at `baseUrl` and signs in through Hale's sign-in page with a password. */
export async function signInToPortal(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/signin`);
  await signInAtHale(page, email, password);
}

/** A Hale with a mail catcher, Chromium, and a patient's and a provider's window, for one describe block. */
export interface PortalRig {
  h: AccountsHarness;
  browser: Browser;
  patient: Page;
  provider: Page;
}

/** Starts the rig before the block's tests (then runs `setUp`) and stops it after them. */
export function portalRig(setUp: (rig: PortalRig) => Promise<void>): PortalRig {
  const rig = {} as PortalRig;
  beforeAll(async () => {
    rig.h = await startAccountsHarness();
    rig.browser = await launchChromium();
    rig.patient = await (await rig.browser.newContext({ viewport: { width: 1000, height: 900 } })).newPage();
    rig.provider = await (await rig.browser.newContext({ viewport: { width: 1000, height: 900 } })).newPage();
    await setUp(rig);
  });
  afterAll(async () => {
    await rig.browser?.close();
    await rig.h?.stop();
  });
  return rig;
}
