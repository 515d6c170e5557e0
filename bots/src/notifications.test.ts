import { OperationOutcomeError } from '@medplum/core';
import type { Basic, Communication, Patient, Practitioner } from '@medplum/fhirtypes';
import type { MockClient } from '@medplum/mock';
import { botEvent, createPatient, cronEvent, newMedplum } from './lib/test-support';
import { queueNotification } from './lib/notify';
import { newPreferences, withCategory, withOptOut, withPreferredChannels, withQuietHours } from './lib/preferences';
import { EXT, SYSTEM } from './lib/vocabulary';
import type { DispatchOutcome } from './notifications';
import { handler } from './notifications';

const NOW = '2025-03-10T10:30:00.000Z'; // 23:30 in Auckland (NZDT, UTC+13)
const PORTAL = { PORTAL_URL: { name: 'PORTAL_URL', valueString: 'https://portal.example.org/' } };

let medplum: MockClient;
let patient: Patient & { id: string };
let sent: { url: string; body: Record<string, string> }[];

beforeEach(async () => {
  medplum = newMedplum();
  patient = await createPatient(medplum);
  sent = [];
  const post = medplum.post.bind(medplum);
  // Intercept only the two messaging routes; FHIR writes go through as usual.
  jest.spyOn(medplum, 'post').mockImplementation((url, body, ...rest) => {
    const path = url.toString();
    if (path === 'email/v1/send' || path === 'sms/v1/send') {
      sent.push({ url: path, body: body as Record<string, string> });
      return Promise.resolve({ resourceType: 'OperationOutcome', issue: [] });
    }
    return post(url, body, ...rest);
  });
});

async function queue(recipient = `Patient/${patient.id}`, text = 'You have a new task.'): Promise<Communication> {
  return queueNotification(medplum, {
    key: `test/${Math.random()}`,
    recipient: { reference: recipient },
    category: 'care-alert',
    text,
    subject: { reference: `Patient/${patient.id}` },
  });
}

/** Runs the dispatcher on the Communication, as its subscription does, at `now`. */
function dispatch(communication: Communication, now = NOW): Promise<DispatchOutcome[]> {
  return handler(medplum, botEvent({ ...communication, now }, PORTAL));
}

async function reread(communication: Communication): Promise<Communication> {
  return medplum.readResource('Communication', communication.id as string);
}

async function setPreferences(subject: string, ...changes: ((b: Basic) => Basic)[]): Promise<Basic> {
  let basic = newPreferences({ reference: subject });
  for (const change of changes) {
    basic = change(basic);
  }
  return medplum.createResource(basic);
}

describe('sending', () => {
  test('emails the recipient a template linking to the portal and completes the Communication', async () => {
    const communication = await queue();
    expect(await dispatch(communication)).toEqual([
      { communication: `Communication/${communication.id}`, result: 'sent', channels: ['email'] },
    ]);
    expect(sent).toEqual([
      {
        url: 'email/v1/send',
        body: {
          to: 'aroha@example.org',
          subject: 'Hale: Something new from your care team',
          text: expect.stringContaining(`https://portal.example.org/notifications/${communication.id}`),
        },
      },
    ]);
    const done = await reread(communication);
    expect(done).toMatchObject({ status: 'completed', medium: [{ coding: [{ code: 'EMAILWRIT' }] }] });
    expect(done.sent).toBeDefined();
    expect(done.statusReason).toBeUndefined();
  });

  test('never puts any word of the payload, or the patient name, in the email or SMS', async () => {
    await setPreferences(`Patient/${patient.id}`, (b) => withPreferredChannels(b, ['email', 'sms']));
    const diagnosis = 'Diagnosis: metastatic melanoma, stage IIIC; biopsy positive; pembrolizumab started';
    const communication = await queue(`Patient/${patient.id}`, diagnosis);
    await dispatch(communication);
    expect(sent.map((s) => s.url)).toEqual(['email/v1/send', 'sms/v1/send']);
    const words = [...diagnosis.split(/[^A-Za-z]+/), 'Aroha', 'Ngata'].filter((w) => w.length >= 3);
    for (const message of sent) {
      const { to: _address, ...content } = message.body;
      const body = Object.values(content).join('\n').toLowerCase();
      for (const word of words) {
        expect([message.url, word, body.includes(word.toLowerCase())]).toEqual([message.url, word, false]);
      }
    }
  });

  test('texts via sms/v1/send when SMS is the preferred channel, to the mobile number', async () => {
    await setPreferences(`Patient/${patient.id}`, (b) => withPreferredChannels(b, ['sms']));
    await dispatch(await queue());
    expect(sent).toEqual([
      {
        url: 'sms/v1/send',
        body: {
          to: '+64211234567',
          body: expect.stringMatching(/^Hale: .*https:\/\/portal\.example\.org\/notifications\/.* Reply STOP/),
        },
      },
    ]);
  });

  test('a practitioner recipient is emailed at their telecom address', async () => {
    const practitioner = await medplum.createResource<Practitioner>({
      resourceType: 'Practitioner',
      telecom: [{ system: 'email', value: 'dr.ruru@example.org' }],
    });
    await dispatch(await queue(`Practitioner/${practitioner.id}`));
    expect(sent.map((s) => s.body.to)).toEqual(['dr.ruru@example.org']);
  });

  test('a Communication with several recipients is split into one per recipient, each sent', async () => {
    const practitioner = await medplum.createResource<Practitioner>({
      resourceType: 'Practitioner',
      telecom: [{ system: 'email', value: 'dr.ruru@example.org' }],
    });
    const communication = await queue();
    const both = await medplum.updateResource({
      ...communication,
      recipient: [{ reference: `Patient/${patient.id}` }, { reference: `Practitioner/${practitioner.id}` }],
    });
    const outcomes = await dispatch(both);
    expect(outcomes.map((o) => o.result)).toEqual(['split', 'sent', 'sent']);
    expect(sent.map((s) => s.body.to).sort()).toEqual(['aroha@example.org', 'dr.ruru@example.org']);
    expect((await reread(both)).status).toBe('completed');
    expect(await dispatch(both)).toEqual([expect.objectContaining({ result: 'skipped' })]);
  });
});

describe('preferences and opt-outs', () => {
  test('an opted-out channel is not used: email opted out falls back to SMS', async () => {
    await setPreferences(`Patient/${patient.id}`, (b) => withOptOut(b, 'email', '2025-01-01T00:00:00Z'));
    await dispatch(await queue());
    expect(sent.map((s) => s.url)).toEqual(['sms/v1/send']);
  });

  test('opted out of every channel it could use: stopped, opted-out, nothing sent', async () => {
    await setPreferences(
      `Patient/${patient.id}`,
      (b) => withPreferredChannels(b, ['sms']),
      (b) => withOptOut(b, 'sms', '2025-01-01T00:00:00Z')
    );
    const communication = await queue();
    expect((await dispatch(communication))[0]).toMatchObject({ result: 'stopped', reason: 'opted-out' });
    expect(sent).toEqual([]);
    expect((await reread(communication)).statusReason?.coding?.[0]).toEqual({
      system: SYSTEM.statusReason,
      code: 'opted-out',
    });
  });

  test('a category turned off is not sent', async () => {
    await setPreferences(`Patient/${patient.id}`, (b) => withCategory(b, 'care-alert', false));
    expect((await dispatch(await queue()))[0]).toMatchObject({ result: 'stopped', reason: 'opted-out' });
    expect(sent).toEqual([]);
  });

  test('no email address and no mobile number: stopped, no-address', async () => {
    const bare = await createPatient(medplum, { telecom: [{ system: 'phone', use: 'home', value: '+6491234567' }] });
    expect((await dispatch(await queue(`Patient/${bare.id}`)))[0]).toMatchObject({
      result: 'stopped',
      reason: 'no-address',
    });
  });
});

describe('quiet hours', () => {
  beforeEach(async () => {
    await setPreferences(`Patient/${patient.id}`, (b) =>
      withQuietHours(b, { start: '22:00', end: '07:00', timeZone: 'Pacific/Auckland' })
    );
  });

  test('a message in quiet hours is deferred to their end, then sent by the cron run after it', async () => {
    const communication = await queue();
    expect(await dispatch(communication)).toEqual([
      { communication: `Communication/${communication.id}`, result: 'deferred', reason: '2025-03-10T18:00:00.000Z' },
    ]);
    const deferred = await reread(communication);
    expect(deferred).toMatchObject({ status: 'in-progress', statusReason: { coding: [{ code: 'quiet-hours' }] } });
    expect(deferred.extension).toEqual([{ url: EXT.notBefore, valueDateTime: '2025-03-10T18:00:00.000Z' }]);
    expect(sent).toEqual([]);

    expect(await handler(medplum, cronEvent('2025-03-10T17:00:00Z', PORTAL))).toEqual([
      expect.objectContaining({ result: 'skipped', reason: 'deferred until 2025-03-10T18:00:00.000Z' }),
    ]);
    expect(await handler(medplum, cronEvent('2025-03-10T18:05:00Z', PORTAL))).toEqual([
      expect.objectContaining({ result: 'sent' }),
    ]);
    const done = await reread(communication);
    expect([done.status, done.extension, sent.length]).toEqual(['completed', undefined, 1]);
  });

  test('outside quiet hours, and for stat priority, it is sent at once', async () => {
    expect((await dispatch(await queue(), '2025-03-10T01:00:00Z'))[0]?.result).toBe('sent'); // 14:00 in Auckland
    const stat = await medplum.updateResource({ ...(await queue()), priority: 'stat' });
    expect((await dispatch(stat))[0]?.result).toBe('sent');
  });
});

describe('robustness', () => {
  test('two runs on the same version: only one sends (If-Match claim)', async () => {
    const communication = await queue();
    await dispatch(communication);
    expect((await dispatch(communication))[0]).toMatchObject({ result: 'skipped' });
    expect(sent).toHaveLength(1);
  });

  test('a failing channel stops the Communication with send-failed', async () => {
    const communication = await queue();
    (medplum.post as jest.Mock).mockImplementationOnce(() => Promise.reject(new Error('mail server down')));
    expect((await dispatch(communication))[0]).toMatchObject({ result: 'stopped', reason: 'send-failed' });
  });

  test('an SMS the server refuses as opted out (409 conflict) stops the Communication with opted-out', async () => {
    await setPreferences(`Patient/${patient.id}`, (b) => withPreferredChannels(b, ['sms']));
    const communication = await queue();
    (medplum.post as jest.Mock).mockImplementationOnce(() =>
      Promise.reject(
        new OperationOutcomeError({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'conflict', details: { text: 'the recipient has opted out of SMS' } }],
        })
      )
    );
    expect((await dispatch(communication))[0]).toMatchObject({ result: 'stopped', reason: 'opted-out' });
  });

  test('a reminder for an appointment that already started is stopped as expired', async () => {
    const appointment = await medplum.createResource({
      resourceType: 'Appointment',
      status: 'booked',
      start: '2025-03-10T10:00:00Z',
      participant: [{ status: 'accepted', actor: { reference: `Patient/${patient.id}` } }],
    });
    const reminder = await queueNotification(medplum, {
      key: 'test/reminder',
      recipient: { reference: `Patient/${patient.id}` },
      category: 'appointment-reminder',
      text: 'You have an appointment coming up.',
      about: [{ reference: `Appointment/${appointment.id}` }],
    });
    expect((await dispatch(reminder))[0]).toMatchObject({ result: 'stopped', reason: 'expired' });
  });

  test('Communications that are not notifications, or are done, are left alone', async () => {
    const message = await medplum.createResource<Communication>({
      resourceType: 'Communication',
      status: 'preparation',
      recipient: [{ reference: `Patient/${patient.id}` }],
      payload: [{ contentString: 'A secure message from a clinician' }],
    });
    expect((await dispatch(message))[0]).toMatchObject({ result: 'skipped', reason: 'not a notification' });
    const done = await medplum.updateResource({ ...(await queue()), status: 'completed' });
    expect((await dispatch(done))[0]).toMatchObject({ result: 'skipped', reason: 'status completed' });
    expect(sent).toEqual([]);
  });
});
