import type { Browser, BrowserContext, Page } from 'playwright-core';
import { sql } from '../../server/src/db/sql';
import type { AccountsHarness } from '../../server/src/auth/accounts/test-support';
import {
  STRONG_PASSWORD,
  linkIn,
  startAccountsHarness,
  uniqueEmail,
} from '../../server/src/auth/accounts/test-support';
import { PASSWORD, createResource } from '../../server/src/auth/oauth/test-support';
import { launchChromium } from './browser';
import { providerAccount } from './people';
import { describeInBrowser, expectAccessible, expectPhoneSized, screenshot, signInAtHale } from './portal-support';

/*
 * The portal end to end: the built web/dist served by a real Hale on PostgreSQL, driven in Debian's chromium.
 * `npm test` builds the portal first (scripts/build-web.mjs).
 */

describeInBrowser('the web portal in Chromium', () => {
  let h: AccountsHarness;
  let browser: Browser;
  let patientContext: BrowserContext;
  let providerContext: BrowserContext;
  let patient: Page;
  let provider: Page;
  let patientEmail: string;
  let patientId: string;
  let providerEmail: string;
  let practitionerId: string;

  beforeAll(async () => {
    h = await startAccountsHarness();
    browser = await launchChromium();
    patientContext = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    // A phone-sized window for the provider: the screens must work at 360 px too.
    providerContext = await browser.newContext({ viewport: { width: 360, height: 800 } });
    patient = await patientContext.newPage();
    provider = await providerContext.newPage();
    const dr = await providerAccount(h, 'Rua', 'Tane');
    providerEmail = dr.email;
    practitionerId = dr.practitionerId;
  });

  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  test('a new patient signs up, confirms their email, signs in and records a first measurement', async () => {
    await patient.goto(`${h.s.hale.url}/`);
    await patient.getByRole('heading', { name: 'Sign in to Hale' }).waitFor();
    await expectAccessible(patient);
    await patient.getByRole('link', { name: 'Create an account' }).click();
    await patient.getByRole('heading', { name: 'Create your Hale account' }).waitFor();
    await expectAccessible(patient);

    patientEmail = uniqueEmail('portal');
    await patient.getByLabel('Full name').fill('Aroha Ngata');
    await patient.getByLabel('Email').fill(patientEmail);
    await patient.getByLabel('Mobile phone').fill('+64 21 555 0199');
    await patient.getByLabel('Date of birth').fill('1988-03-14');
    // A password the server's policy refuses: its OperationOutcome is shown as a sentence.
    await patient.locator('input[name=password]').fill('password123456');
    await patient.getByRole('button', { name: 'Create account' }).click();
    const refusal = await patient.getByRole('alert').innerText();
    expect(refusal).toMatch(/password/i);
    expect(refusal).toMatch(/\.$/m);

    await patient.locator('input[name=password]').fill(STRONG_PASSWORD);
    await patient.getByRole('button', { name: 'Create account' }).click();
    await patient.getByRole('heading', { name: 'Check your email' }).waitFor();
    await expectAccessible(patient);

    const link = linkIn(await h.mail.waitFor(patientEmail), `${h.s.hale.url}/auth/verify-email?token=`);
    await patient.goto(link);
    await patient.getByRole('button').first().click();
    await patient.waitForLoadState();

    await patient.goto(`${h.s.hale.url}/signin`);
    await signInAtHale(patient, patientEmail, STRONG_PASSWORD);
    await patient.getByRole('heading', { name: 'My health' }).waitFor();
    await patient.getByText('No measurements yet.').waitFor();
    await expectAccessible(patient);

    await patient.locator('label[for$="-heart-rate"]').click();
    await patient.getByLabel('Heart rate (beats per minute)').fill('64');
    await patient.getByRole('button', { name: 'Save heart rate' }).click();
    await patient.getByRole('status').filter({ hasText: 'Saved: Heart rate 64' }).waitFor();

    await patient.locator('label[for$="-blood-pressure"]').click();
    await patient.getByLabel('Systolic (mmHg)').fill('122');
    await patient.getByLabel('Diastolic (mmHg)').fill('79');
    await patient.getByRole('button', { name: 'Save blood pressure' }).click();
    await patient.getByRole('status').filter({ hasText: 'Saved: Blood pressure 122/79' }).waitFor();

    const latest = patient.getByRole('region', { name: 'Latest vital signs' });
    await latest.getByRole('listitem', { name: 'Heart rate' }).getByText('64').waitFor();
    await latest.getByRole('listitem', { name: 'Blood pressure' }).getByText('122/79 mmHg').waitFor();
    await patient.getByRole('region', { name: 'Heart rate' }).locator('.recharts-surface').first().waitFor();
    await expectAccessible(patient);

    // What the form wrote is a profile-valid measurement, stored as Hale's heart-rate profile says.
    const [row] = await h.s.hale.db.query<{ profile_id: string }>(
      sql`SELECT profile_id FROM account WHERE email = ${patientEmail}`
    );
    patientId = row?.profile_id as string;
    const stored = await h.s.get<any>(`Observation?subject=Patient/${patientId}&code=http://loinc.org|8867-4`);
    expect(stored.body.entry[0].resource).toMatchObject({
      meta: { profile: ['https://hale.health/fhir/StructureDefinition/hale-heart-rate'] },
      valueQuantity: { value: 64, code: '/min', system: 'http://unitsofmeasure.org' },
    });
  });

  test('the dashboard shows, from one $summary, the alerts, goals, care plans, appointments and unread messages written through the API', async () => {
    const subject = { reference: `Patient/${patientId}` };
    const raised = new Date(Date.now() - 3_600_000).toISOString();
    // What the clinical rules engine writes when a reading crosses a rule's threshold (bots/src/lib/rules/actions.ts).
    await createResource(h.s, {
      resourceType: 'Flag',
      status: 'active',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: 'clinical' }] }],
      code: {
        coding: [{ system: 'https://hale.health/fhir/CodeSystem/flag-code', code: 'clinical-rule-alert' }],
        text: 'Blood pressure above 140/90 three times this week',
      },
      subject,
      period: { start: raised },
      extension: [
        {
          url: 'http://hl7.org/fhir/StructureDefinition/flag-priority',
          valueCodeableConcept: { coding: [{ system: 'http://hl7.org/fhir/flag-priority-code', code: 'PH' }] },
        },
      ],
    });
    // An ended alert is not shown.
    await createResource(h.s, {
      resourceType: 'Flag',
      status: 'inactive',
      code: { text: 'An alert that has ended' },
      subject,
    });
    await createResource(h.s, {
      resourceType: 'Goal',
      lifecycleStatus: 'active',
      description: { text: 'Keep my resting heart rate under 100' },
      subject,
      target: [
        {
          measure: { coding: [{ system: 'http://loinc.org', code: '8867-4' }], text: 'Heart rate' },
          detailRange: { high: { value: 100, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' } },
        },
      ],
    });
    await createResource(h.s, {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      title: 'Cardiac rehabilitation',
      subject,
      activity: [
        { detail: { status: 'completed', description: 'Assessment' } },
        {
          extension: [
            {
              url: 'https://hale.health/fhir/StructureDefinition/care-plan-phase',
              valueString: 'Supervised exercise',
            },
          ],
          detail: { status: 'in-progress', description: 'Three sessions a week' },
        },
      ],
    });
    const start = new Date(Date.now() + 2 * 86_400_000);
    start.setUTCMinutes(0, 0, 0);
    await createResource(h.s, {
      resourceType: 'Appointment',
      status: 'booked',
      description: 'Follow-up visit',
      start: start.toISOString(),
      end: new Date(start.getTime() + 1_800_000).toISOString(),
      participant: [
        { actor: subject, status: 'accepted' },
        { actor: { reference: `Practitioner/${practitionerId}`, display: 'Dr Rua Tane' }, status: 'accepted' },
      ],
    });
    const messageCategory = 'https://hale.health/fhir/CodeSystem/message-category';
    const thread = await createResource(h.s, {
      resourceType: 'Communication',
      status: 'in-progress',
      category: [{ coding: [{ system: messageCategory, code: 'thread' }] }],
      subject,
      topic: { text: 'Your results' },
      recipient: [subject, { reference: `Practitioner/${practitionerId}` }],
      sent: new Date().toISOString(),
    });
    await createResource(h.s, {
      resourceType: 'Communication',
      status: 'completed',
      category: [{ coding: [{ system: messageCategory, code: 'message' }] }],
      partOf: [{ reference: `Communication/${thread.id}` }],
      subject,
      sender: { reference: `Practitioner/${practitionerId}` },
      recipient: [subject],
      payload: [{ contentString: 'Your results look fine.' }],
      sent: new Date().toISOString(),
    });

    const summaries: string[] = [];
    patient.on('request', (r) => {
      if (r.url().includes('/$summary')) {
        summaries.push(r.url());
      }
    });
    await patient.reload();
    const alerts = patient.getByRole('region', { name: 'Alerts' });
    const alert = alerts.getByRole('listitem', { name: 'Blood pressure above 140/90 three times this week' });
    await alert.getByText('High priority').waitFor();
    await alert.locator(`time[datetime="${raised}"]`).waitFor();
    expect(await alerts.getByRole('listitem').count()).toBe(1);
    const goal = patient
      .getByRole('region', { name: 'Goals' })
      .getByRole('listitem', { name: 'Keep my resting heart rate under 100' });
    await goal.getByText('Heart rate: target at most 100 /min, latest 64 beats per minute').waitFor();
    await goal.getByText('On target').waitFor();
    await patient
      .getByRole('region', { name: 'Care plans' })
      .getByRole('listitem', { name: 'Cardiac rehabilitation' })
      .getByText('Current phase: Supervised exercise')
      .waitFor();
    await patient
      .getByRole('region', { name: 'Upcoming appointments' })
      .getByText('Follow-up visit with Dr Rua Tane · Booked')
      .waitFor();
    await patient.getByRole('region', { name: 'Messages' }).getByText('You have 1 unread message.').waitFor();
    await patient
      .getByRole('region', { name: 'Latest vital signs' })
      .getByRole('listitem', { name: 'Heart rate' })
      .waitFor();
    // Everything above came from one request.
    expect(summaries).toHaveLength(1);
    await expectAccessible(patient);
    await patient.getByRole('region', { name: 'Heart rate' }).locator('.recharts-surface').first().waitFor();
    await screenshot(patient, 'patient-dashboard');
    await expectPhoneSized(patient);
  });

  test('the patient shares vital signs with a provider for 30 days; the chart shows them and says labs are not shared', async () => {
    // A lab result in the record: shared vitals must not reveal it.
    await createResource(h.s, {
      resourceType: 'Observation',
      status: 'final',
      category: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] },
      ],
      code: { coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose' }], text: 'Glucose' },
      subject: { reference: `Patient/${patientId}` },
      effectiveDateTime: new Date().toISOString(),
      valueQuantity: { value: 97, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
    });

    await patient.getByRole('link', { name: 'My providers' }).click();
    await patient.getByText('You are not sharing your record with anyone.').waitFor();
    await expectAccessible(patient);
    await patient.getByLabel("Provider's name").fill('Tane');
    await patient.getByRole('button', { name: 'Find' }).click();
    await patient.getByRole('button', { name: 'Share vital signs for 30 days with Dr Rua Tane' }).click();
    await patient
      .getByRole('status')
      .filter({ hasText: 'Dr Rua Tane can see your vital signs for 30 days.' })
      .waitFor();
    const until = new Date(Date.now() + 30 * 86_400_000).toLocaleDateString('en-US', { dateStyle: 'medium' });
    await patient
      .getByRole('region', { name: 'Sharing now' })
      .getByRole('listitem')
      .filter({ hasText: 'Dr Rua Tane' })
      .getByText(`Sees vital signs until ${until}`)
      .waitFor();
    await expectAccessible(patient);

    await provider.goto(`${h.s.hale.url}/signin`);
    await signInAtHale(provider, providerEmail, PASSWORD);
    await provider.getByRole('heading', { name: 'My patients' }).waitFor();
    await expectAccessible(provider);
    await provider.getByRole('link', { name: 'Aroha Ngata' }).click();
    await provider.getByRole('heading', { name: 'Aroha Ngata' }).waitFor();
    const vitals = provider.getByRole('region', { name: 'Latest vital signs' });
    await vitals.getByRole('listitem', { name: 'Heart rate' }).getByText('64').waitFor();
    await vitals.getByRole('listitem', { name: 'Blood pressure' }).waitFor();
    expect(await provider.getByText('Glucose').count()).toBe(0);
    const notShared = await provider.getByRole('note').innerText();
    expect(notShared).toContain('Not shared with you');
    expect(notShared).toContain('Lab results');
    expect(notShared).not.toContain('Vital signs');
    await expectAccessible(provider);
  });

  test("the patient's access log shows the provider's read of their vital signs under the share, and nobody else's record", async () => {
    // Someone else's record, read by the same provider's token would be theirs alone; here a system write about
    // another patient: its AuditEvent is in that patient's compartment, never in this one's log.
    const other = await createResource(h.s, { resourceType: 'Patient', name: [{ given: ['Mere'], family: 'Kahu' }] });
    await createResource(h.s, {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }], text: 'Heart rate' },
      subject: { reference: `Patient/${other.id}` },
      effectiveDateTime: new Date().toISOString(),
      valueQuantity: { value: 99, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    });

    await patient.getByRole('link', { name: 'Who saw my record' }).click();
    await patient.getByRole('heading', { name: 'Who saw my record' }).waitFor();
    expect(await patient.getByRole('link', { name: 'Who saw my record' }).getAttribute('aria-current')).toBe('page');
    const log = patient.getByRole('table', { name: 'Access to your record, newest first' });
    await log
      .getByRole('row')
      .filter({ hasText: 'Dr Rua Tane looked up measurements and results' })
      .filter({ hasText: `under your sharing of ${new Date().toLocaleDateString('en-US', { dateStyle: 'medium' })}` })
      .first()
      .waitFor();
    const rows = await log.locator('tbody tr').allInnerTexts();
    // The patient's own activity is hidden by default.
    expect(rows.some((r) => r.includes('You '))).toBe(false);
    // Other patients' events are never there: of the two readings the system wrote, only this patient's lab is.
    expect(rows.filter((r) => /An automated service \(.*\) added measurements and results/.test(r))).toHaveLength(1);
    await expectAccessible(patient);
    await screenshot(patient, 'patient-access-log');
    await expectPhoneSized(patient);

    // The screen is a page of its own: Hale serves it on reload too.
    await patient.reload();
    await log.locator('tbody tr').first().waitFor();
    await patient.getByLabel('Show my own activity too').check();
    await log.getByRole('row').filter({ hasText: 'You added measurements and results' }).first().waitFor();
    const mine = await log.locator('tbody tr').allInnerTexts();
    expect(mine.length).toBeGreaterThan(rows.length);
    await expectAccessible(patient);
    await patient.getByRole('link', { name: 'My providers' }).click();
  });

  test('after the patient stops sharing, the provider sees an empty chart on reload', async () => {
    await patient.getByRole('button', { name: 'Stop sharing with Dr Rua Tane' }).click();
    await patient.getByRole('status').filter({ hasText: 'You stopped sharing with Dr Rua Tane.' }).waitFor();
    await patient.getByText('You are not sharing your record with anyone.').waitFor();

    await provider.reload();
    await provider
      .getByRole('status')
      .filter({ hasText: 'This person does not share any part of their record with you now.' })
      .waitFor();
    expect(await provider.getByText('64').count()).toBe(0);
    await expectAccessible(provider);
    await provider.getByRole('link', { name: 'My patients' }).click();
    await provider.getByText('Nobody shares their record with you at the moment.').waitFor();
  });
});
