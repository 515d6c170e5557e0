import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Locator } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { TestServer } from '../../test/test-server';
import type { TestAccount } from './test-support';
import { PASSWORD, createAccount, createClient, createResource, startOAuthServer } from './test-support';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const SCOPE = 'launch/patient patient/*.rs openid fhirUser offline_access';

const available = existsSync(CHROMIUM);
if (!available) {
  // Loud on purpose: this is the only test of the launch in a real browser.
  console.warn(`\n*** SKIPPING the SMART browser launch test: ${CHROMIUM} is missing (apt-get install chromium) ***\n`);
}

/** A tiny SMART app: launch.html starts the standalone launch, callback.html finishes it and reads data. */
function appPages(clientId: string, iss: string): Record<string, string> {
  const fhirClient = readFileSync(require.resolve('fhirclient/build/fhir-client.js'), 'utf8');
  const page = (script: string): string =>
    `<!doctype html><html><head><title>app</title><script src="/fhir-client.js"></script></head><body><script>${script}</script></body></html>`;
  return {
    '/fhir-client.js': fhirClient,
    '/launch.html': page(
      `FHIR.oauth2.authorize(${JSON.stringify({ clientId, scope: SCOPE, redirectUri: 'callback.html', iss })});`
    ),
    '/callback.html': page(`
      FHIR.oauth2.ready().then(async (client) => {
        const patient = await client.request('Patient/' + client.patient.id);
        const vitals = await client.request('Observation?category=vital-signs');
        window.result = { patient, vitals, token: client.state.tokenResponse };
        document.title = 'done';
      }).catch((e) => { window.result = { error: String(e) }; document.title = 'failed'; });`),
  };
}

(available ? describe : describe.skip)('standalone patient launch with fhirclient in Chromium', () => {
  let s: TestServer;
  let app: Server;
  let browser: Browser;
  let account: TestAccount;
  let appUrl: string;

  beforeAll(async () => {
    s = await startOAuthServer();
    account = await createAccount(s, { name: 'Aroha Ngata' });
    app = createServer();
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    // The app runs on another origin than Hale (localhost vs 127.0.0.1), as a real one would.
    appUrl = `http://localhost:${(app.address() as AddressInfo).port}`;
    const { client } = await createClient(s, {
      name: 'Vitals Viewer',
      redirect_uris: [`${appUrl}/callback.html`],
      scope: SCOPE,
    });
    const pages = appPages(client.client_id, s.base);
    app.on('request', (req, res) => {
      const body = pages[new URL(req.url ?? '/', appUrl).pathname];
      res.writeHead(body ? 200 : 404, { 'content-type': req.url?.endsWith('.js') ? 'text/javascript' : 'text/html' });
      res.end(body ?? 'not found');
    });
    const subject = { reference: `Patient/${account.patientId}` };
    const category = (code: string) => [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code }] },
    ];
    await createResource(s, {
      resourceType: 'Observation',
      status: 'final',
      category: category('vital-signs'),
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
      subject,
      valueQuantity: { value: 64, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    });
    await createResource(s, {
      resourceType: 'Observation',
      status: 'final',
      category: category('laboratory'),
      code: { coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose' }] },
      subject,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => app?.close(r));
    await s?.stop();
  });

  test('the person signs in, approves the scopes, and the app reads their Patient and vital signs', async () => {
    const page = await browser.newPage();
    await page.goto(`${appUrl}/launch.html`);
    await page.waitForURL(/\/oauth2\/authorize/);
    const passwordForm = page.getByRole('group', { name: 'With your password' });
    await passwordForm.getByLabel('Email').fill(account.email);
    await passwordForm.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('heading', { name: 'Allow Vitals Viewer?' }).waitFor();
    await expectText(page.locator('fieldset'), 'Read your health record (everything in it)');
    await page.getByRole('button', { name: 'Allow' }).click();

    // Strings, not functions: they run in the page, and the server's TypeScript has no DOM types.
    await page.waitForFunction("document.title === 'done' || document.title === 'failed'", undefined, {
      timeout: 20000,
    });
    const result = (await page.evaluate('window.result')) as any;
    expect(result.error).toBeUndefined();
    expect(result.patient).toMatchObject({ resourceType: 'Patient', id: account.patientId });
    expect(result.vitals.entry.map((e: any) => e.resource.code.coding[0].code)).toEqual(['8867-4']);
    expect(result.token).toMatchObject({ patient: account.patientId, scope: SCOPE, token_type: 'Bearer' });
    expect(typeof result.token.refresh_token).toBe('string');
    expect(typeof result.token.id_token).toBe('string');
    await page.close();
  });
});

async function expectText(locator: Locator, text: string): Promise<void> {
  expect(await locator.innerText()).toContain(text);
}
