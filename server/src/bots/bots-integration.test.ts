/**
 * Hale's own bots (bots/src/), installed from bots/bots.json, on a real Hale: real sandbox, real
 * Subscriptions and cron, real SMTP server and SMS sink. Everything is observed through the public API.
 */
import type {
  Appointment,
  AuditEvent,
  CareTeam,
  Communication,
  Consent,
  DetectedIssue,
  DocumentReference,
  Flag,
  GuidanceResponse,
  Observation,
  Patient,
} from '@medplum/fhirtypes';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newPreferences, withOptOut, withQuietHours } from '../../../bots/src/lib/preferences';
import { EXT } from '../../../bots/src/lib/vocabulary';
import type { MailCatcher } from '../auth/accounts/test-support';
import { startMailCatcher } from '../auth/accounts/test-support';
import { eventually } from '../test/bots';
import { account, relationship, sharingConsent, userToken } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import type { InstallReport } from './install';
import { DEFAULT_MANIFEST, readManifest } from './install';
import {
  DAY,
  FHIR_JSON,
  LOINC,
  PORTAL,
  ago,
  all,
  becomes,
  bp,
  categoryOf,
  delivered,
  found,
  install,
  jobs,
  noticesAbout,
  notification,
  plain,
  quantity,
  reading,
  reasonOf,
  triggered,
  versionOf,
} from './testdata/hale-bots';

describe('Hale bots on a real Hale', () => {
  let srv: TestServer;
  let mail: MailCatcher;
  let sink: string;
  let installed: InstallReport;
  const bot = (name: string): string => installed.bots.find((b) => b.name === name)?.bot ?? '';
  const patient = (p: Partial<Patient> = {}) => srv.create<Patient>({ resourceType: 'Patient', ...p });
  const smsTo = (to: string): string[] =>
    existsSync(sink)
      ? readFileSync(sink, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { to: string; body: string })
          .filter((m) => m.to === to)
          .map((m) => m.body)
      : [];

  beforeAll(async () => {
    mail = await startMailCatcher();
    sink = join(mkdtempSync(join(tmpdir(), 'hale-bots-sms-')), 'sms.jsonl');
    srv = await startTestServer({ SMTP_URL: mail.url, SMS_SINK_FILE: sink });
    installed = await install(srv);
  });

  afterAll(async () => {
    await srv?.stop();
    await mail?.stop();
  });

  test('the install deploys every bot of the manifest with its scopes and stores the default rules; again, it changes nothing', async () => {
    expect(installed.bots.map((b) => [b.name, b.resource, b.code])).toEqual(
      readManifest(DEFAULT_MANIFEST).bots.map((b) => [b.name, 'created', 'deployed'])
    );
    expect(installed.rules.map((r) => r.created)).toEqual([true, true, true, true, true]);
    const versions = await all(srv, 'Bot?_count=100');
    // A Subscription to one of them that the manifest does not list is switched off: the manifest says what runs.
    const stray = await srv.create({
      resourceType: 'Subscription',
      status: 'active',
      reason: 'added by hand',
      criteria: 'Patient',
      channel: { type: 'rest-hook', endpoint: `Bot/${bot('reminders')}` },
    });
    const again = await install(srv);
    expect(again.bots.flatMap((b) => b.switchedOff)).toEqual([stray.id]);
    expect((await srv.get(`Subscription/${stray.id}`)).body.status).toBe('off');
    expect(again.bots.every((b) => b.resource === 'unchanged' && b.code === 'unchanged')).toBe(true);
    expect(again.bots.map((b) => b.subscriptions)).toEqual(installed.bots.map((b) => b.subscriptions));
    expect(again.rules.every((r) => !r.created)).toBe(true);
    expect((await all(srv, 'Bot?_count=100')).map((b) => b.meta?.versionId)).toEqual(
      versions.map((b) => b.meta?.versionId)
    );
    // The install-rules bot itself, through the sandbox with its own scopes, finds them all stored.
    const run = await srv.post(`Bot/${bot('install-rules')}/$execute`, {}, { 'content-type': 'application/json' });
    expect(run.status).toBe(200);
    expect(run.body.rules.map((r: { id: string }) => r.id)).toEqual(installed.rules.map((r) => r.id));
    expect(run.body.rules.every((r: { created: boolean }) => !r.created)).toBe(true);
  });

  test('clinical rules: two BP panels at or above 140/90 in 7 days raise one Flag and DetectedIssue; re-delivery adds nothing', async () => {
    const p = await patient();
    const first = await srv.create(bp(p.id, 150, 95, ago(2 * DAY)));
    await delivered(srv, bot('clinical-rules'), versionOf(first));
    const [one] = await found<GuidanceResponse>(srv, `GuidanceResponse?subject=Patient/${p.id}`);
    expect(one && triggered(one)).toBe(false);
    expect(await all(srv, `Flag?subject=Patient/${p.id}`)).toHaveLength(0);

    const second = await srv.create(bp(p.id, 146, 88, ago(DAY)));
    await delivered(srv, bot('clinical-rules'), versionOf(second));
    const responses = await all<GuidanceResponse>(srv, `GuidanceResponse?subject=Patient/${p.id}`);
    expect(responses.map(triggered).sort()).toEqual([false, true]);
    const [flag, ...moreFlags] = await all<Flag>(srv, `Flag?subject=Patient/${p.id}`);
    expect(moreFlags).toHaveLength(0);
    expect(flag).toMatchObject({ status: 'active', code: { coding: [{ code: 'clinical-rule-alert' }] } });
    const [issue, ...moreIssues] = await all<DetectedIssue>(srv, `DetectedIssue?patient=Patient/${p.id}`);
    expect(moreIssues).toHaveLength(0);
    expect(issue?.implicated?.map((r) => r.reference).sort()).toEqual(
      [`Observation/${first.id}`, `Observation/${second.id}`].sort()
    );

    // The same reading again: re-run by $execute, and delivered again by an update that changes nothing.
    const rerun = await srv.post(`Bot/${bot('clinical-rules')}/$execute`, second, FHIR_JSON);
    expect(rerun.status).toBe(200);
    const again = (await srv.put<Observation>(`Observation/${second.id}`, second)).body;
    await delivered(srv, bot('clinical-rules'), versionOf(again));
    expect(await all(srv, `Flag?subject=Patient/${p.id}`)).toHaveLength(1);
    expect(await all(srv, `DetectedIssue?patient=Patient/${p.id}`)).toHaveLength(1);
    expect(await all(srv, `GuidanceResponse?subject=Patient/${p.id}`)).toHaveLength(2);
  });

  test('clinical rules: a synced batch of three high readings, evaluated by two workers at once, raises one Flag', async () => {
    const p = await patient();
    const res = await srv.post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [3, 2, 1].map((d) => ({
        resource: bp(p.id, 150, 95, ago(d * DAY)),
        request: { method: 'POST', url: 'Observation' },
      })),
    });
    expect(res.status).toBe(200);
    for (const entry of res.body.entry as { response: { location: string } }[]) {
      await delivered(srv, bot('clinical-rules'), entry.response.location.replace(/^.*?(Observation\/)/, '$1'));
    }
    const responses = await all<GuidanceResponse>(srv, `GuidanceResponse?subject=Patient/${p.id}`);
    expect(responses.map(triggered).sort()).toEqual([false, true, true]);
    expect(await all(srv, `Flag?subject=Patient/${p.id}`)).toHaveLength(1);
    expect(await all(srv, `DetectedIssue?patient=Patient/${p.id}`)).toHaveLength(1);
  });

  test('clinical rules: one high reading alone is evaluated, not triggered, and raises no Flag', async () => {
    const p = await patient();
    const only = await srv.create(bp(p.id, 160, 100, ago(DAY)));
    await delivered(srv, bot('clinical-rules'), versionOf(only));
    const responses = await found<GuidanceResponse>(srv, `GuidanceResponse?subject=Patient/${p.id}`);
    expect(responses.map(triggered)).toEqual([false]);
    expect(responses[0]?.reasonReference?.[0]?.reference).toBe(`Observation/${only.id}`);
    expect(await all(srv, `Flag?subject=Patient/${p.id}`)).toHaveLength(0);
  });

  test('derived measurements: weight and height make a BMI derived from both; a BMI of 30 or more flags eligibility', async () => {
    const p = await patient();
    const height = await srv.create(reading(p.id, '8302-2', ago(3 * DAY), { valueQuantity: quantity(175, 'cm') }));
    await delivered(srv, bot('derived-measurements'), versionOf(height));
    const weight = await srv.create(reading(p.id, '29463-7', ago(DAY), { valueQuantity: quantity(95, 'kg') }));
    await delivered(srv, bot('derived-measurements'), versionOf(weight));
    const [bmi, ...more] = await all<Observation>(srv, `Observation?subject=Patient/${p.id}&code=${LOINC}|39156-5`);
    expect(more).toHaveLength(0);
    expect(bmi?.valueQuantity).toMatchObject({ value: 31, code: 'kg/m2' });
    expect(bmi?.derivedFrom?.map((r) => r.reference)).toEqual([`Observation/${weight.id}`, `Observation/${height.id}`]);
    const flags = await all<Flag>(srv, `Flag?subject=Patient/${p.id}`);
    expect(flags.map((f) => [f.status, f.code.coding?.[0]?.code])).toEqual([['active', 'weight-management-eligible']]);
  });

  test('expiry: an ended Consent and a temporary CareTeam past its end become inactive on a cron tick, and both sides are told', async () => {
    const p = await patient({ telecom: [{ system: 'email', value: 'consenting@example.org' }] });
    const dr = await srv.create({
      resourceType: 'Practitioner',
      telecom: [{ system: 'email', value: 'dr.expiry@example.org' }],
    });
    const consent = await srv.create<Consent>(
      sharingConsent({
        patient: p.id,
        actor: { reference: `Practitioner/${dr.id}` },
        period: { start: '2025-01-01', end: '2025-06-30' },
      })
    );
    const team = await srv.create(
      relationship(p.id, `Practitioner/${dr.id}`, 'temporary', { start: '2025-01-01', end: '2025-02-01' })
    );
    expect(await srv.hale.bots?.tickCron(new Date('2026-12-07T09:15:00Z'))).toBeGreaterThan(0);
    await becomes<Consent>(srv, `Consent/${consent.id}`, (c) => c.status === 'inactive');
    await becomes<CareTeam>(srv, `CareTeam/${team.id}`, (c) => c.status === 'inactive');
    const toPatient = await found<Communication>(srv, `Communication?recipient=Patient/${p.id}`, 2);
    const toDoctor = await found<Communication>(srv, `Communication?recipient=Practitioner/${dr.id}`, 2);
    for (const c of [...toPatient, ...toDoctor]) {
      expect(categoryOf(c)).toBe('access-ended');
    }
    expect(toPatient.flatMap((c) => c.about?.map((a) => a.reference)).sort()).toEqual(
      [`CareTeam/${team.id}`, `Consent/${consent.id}`].sort()
    );
    // The dispatcher sends them: the subject line says what kind of thing ended, nothing more.
    expect((await mail.waitFor('dr.expiry@example.org')).subject).toBe('Hale: A sharing arrangement has ended');
    expect((await mail.waitFor('consenting@example.org', 2)).subject).toBe('Hale: A sharing arrangement has ended');
  });

  test('notifications: the email says that there is something, links to the portal, and carries none of the payload', async () => {
    const p = await patient({
      name: [{ given: ['Wiremu'], family: 'Tamihana' }],
      telecom: [{ system: 'email', value: 'wiremu@example.org' }],
    });
    const secret = 'Biopsy confirms metastatic pancreatic adenocarcinoma';
    const res = await srv.post<Communication>('Communication', {
      ...notification(`Patient/${p.id}`, 'care-alert', secret),
      subject: { reference: `Patient/${p.id}` },
    });
    expect(res.status).toBe(201);
    const got = await mail.waitFor('wiremu@example.org');
    const text = plain(got.text);
    expect(got.subject).toBe('Hale: Something new from your care team');
    expect(text).toContain(`${PORTAL}/notifications/${res.body.id}`);
    for (const word of [...secret.split(' '), 'Wiremu', 'Tamihana']) {
      expect(`${got.subject}\n${text}`.toLowerCase()).not.toContain(word.toLowerCase());
    }
    const sent = await becomes<Communication>(srv, `Communication/${res.body.id}`, (c) => c.status === 'completed');
    expect(sent.medium?.[0]?.coding?.[0]?.code).toBe('EMAILWRIT');
  });

  test('notifications: a patient who opted out of SMS is not texted, and the Communication says why', async () => {
    const p = await patient({ telecom: [{ system: 'phone', use: 'mobile', value: '+64215550700' }] });
    await srv.create(withOptOut(newPreferences({ reference: `Patient/${p.id}` }), 'sms', '2026-01-01T00:00:00Z'));
    const res = await srv.post<Communication>('Communication', notification(`Patient/${p.id}`, 'care-alert', 'x'));
    expect(res.status).toBe(201);
    const stopped = await becomes<Communication>(srv, `Communication/${res.body.id}`, (c) => c.status === 'stopped');
    expect(reasonOf(stopped)).toBe('opted-out');
    expect(smsTo('+64215550700')).toEqual([]);
  });

  test('notifications: in the quiet hours of the recipient a message is deferred, not sent', async () => {
    const p = await patient({ telecom: [{ system: 'email', value: 'sleeping@example.org' }] });
    const hhmm = (ms: number) => `${new Date(Date.now() + ms).toISOString().slice(11, 16)}:00`;
    const quiet = { start: hhmm(-60 * 60 * 1000), end: hhmm(60 * 60 * 1000), timeZone: 'UTC' };
    await srv.create(withQuietHours(newPreferences({ reference: `Patient/${p.id}` }), quiet));
    const res = await srv.post<Communication>('Communication', notification(`Patient/${p.id}`, 'care-alert', 'x'));
    const deferred = await becomes<Communication>(
      srv,
      `Communication/${res.body.id}`,
      (c) => reasonOf(c) === 'quiet-hours'
    );
    expect(deferred.status).toBe('in-progress');
    const notBefore = deferred.extension?.find((e) => e.url === EXT.notBefore)?.valueDateTime ?? '';
    expect(Date.parse(notBefore)).toBeGreaterThan(Date.now());
    expect(mail.to('sleeping@example.org')).toEqual([]);
  });

  test('reminders: a booked appointment in under 2 hours gets its reminder on the next tick', async () => {
    const p = await patient({ telecom: [{ system: 'email', value: 'booked@example.org' }] });
    const start = new Date(Date.now() + 90 * 60 * 1000);
    const appointment = await srv.create<Appointment>({
      resourceType: 'Appointment',
      status: 'booked',
      start: start.toISOString(),
      end: new Date(start.getTime() + 30 * 60 * 1000).toISOString(),
      participant: [{ actor: { reference: `Patient/${p.id}` }, status: 'accepted' }],
    });
    await srv.hale.bots?.tickCron(new Date('2026-12-07T09:30:00Z'));
    const [reminder, ...more] = await noticesAbout(srv, `Patient/${p.id}`, `Appointment/${appointment.id}`);
    expect(more).toHaveLength(0);
    expect(categoryOf(reminder as Communication)).toBe('appointment-reminder');
    expect((await mail.waitFor('booked@example.org')).subject).toBe('Hale: Appointment reminder');
  });

  test('weekly summary: a patient with readings this week gets a summary document and a notice on Monday 06:00 UTC', async () => {
    const p = await patient();
    await srv.create(reading(p.id, '29463-7', ago(2 * DAY), { valueQuantity: quantity(80, 'kg') }));
    await srv.create(reading(p.id, '29463-7', ago(DAY), { valueQuantity: quantity(79.4, 'kg') }));
    await srv.hale.bots?.tickCron(new Date('2026-12-07T06:00:00Z'));
    const [doc] = await found<DocumentReference>(srv, `DocumentReference?subject=Patient/${p.id}`);
    expect(doc?.type?.coding?.[0]?.code).toBe('60591-5');
    const markdown = Buffer.from(doc?.content[0]?.attachment.data ?? '', 'base64').toString('utf8');
    expect(markdown).toMatch(/weight/i);
    const [notice] = await noticesAbout(srv, `Patient/${p.id}`, `DocumentReference/${doc?.id}`);
    expect(notice && categoryOf(notice)).toBe('weekly-summary');
  });

  test('sharing requests: a provider asking for access tells the patient, once', async () => {
    const p = await patient({ telecom: [{ system: 'email', value: 'asked@example.org' }] });
    const dr = await srv.create({ resourceType: 'Practitioner', name: [{ family: 'Asking' }] });
    const token = await userToken(srv, await account(srv, ['provider'], { type: 'Practitioner', id: dr.id }));
    const asked = await srv.post(
      `Patient/${p.id}/$request-share`,
      { resourceType: 'Parameters', parameter: [{ name: 'category', valueCode: 'vitals' }] },
      { authorization: `Bearer ${token}` }
    );
    expect(asked.status).toBe(200);
    const [notice, ...more] = await noticesAbout(srv, `Patient/${p.id}`, `Task/${asked.body.id}`);
    expect(more).toHaveLength(0);
    expect(notice).toMatchObject({ recipient: [{ reference: `Patient/${p.id}` }] });
    expect((await mail.waitFor('asked@example.org')).subject).toBe('Hale: New data-sharing request');
  });

  // Last: every run above, cron runs included (06:00 also ran the daily rules), had the access it needed.
  test('no run of any installed bot failed', async () => {
    for (const { name, bot: id } of installed.bots) {
      await eventually(async () =>
        (await jobs(srv, id)).every((j) => j.state === 'done' || j.state === 'dead') ? true : undefined
      );
      const failed = (await jobs(srv, id)).filter((j) => j.error || j.state === 'dead');
      expect([name, failed]).toEqual([name, []]);
      const audits = await all<AuditEvent>(srv, `AuditEvent?entity=Bot/${id}&_count=500`);
      expect([name, audits.filter((a) => a.outcome !== '0').map((a) => a.outcomeDesc)]).toEqual([name, []]);
    }
  });
});

describe('Hale bots when sending fails', () => {
  let srv: TestServer;

  beforeAll(async () => {
    // Nothing listens on port 9: every mail is refused.
    srv = await startTestServer({ SMTP_URL: 'smtp://127.0.0.1:9' });
    await install(srv);
  });

  afterAll(async () => {
    await srv?.stop();
  });

  test("the writer's request is unaffected: the Communication is created (201) and ends stopped, send-failed", async () => {
    const p = await srv.create<Patient>({
      resourceType: 'Patient',
      telecom: [{ system: 'email', value: 'x@example.org' }],
    });
    const res = await srv.post<Communication>('Communication', notification(`Patient/${p.id}`, 'care-alert', 'x'));
    expect(res.status).toBe(201);
    const stopped = await becomes<Communication>(srv, `Communication/${res.body.id}`, (c) => c.status === 'stopped');
    expect(reasonOf(stopped)).toBe('send-failed');
  });
});
