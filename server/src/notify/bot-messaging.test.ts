import type { AuditEvent, Basic, Patient } from '@medplum/fhirtypes';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOptedOut, parsePreferences } from '../../../bots/src/lib/preferences';
import type { MailCatcher } from '../auth/accounts/test-support';
import { startMailCatcher } from '../auth/accounts/test-support';
import { account } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';

const AUTH_TOKEN = 'twilio-auth-token-for-tests';
const JSON_TYPE = { 'content-type': 'application/json' };

/** Twilio's signature, computed here as Twilio documents it, independently of the server's code. */
function sign(url: string, form: Record<string, string>): string {
  const data = Object.keys(form)
    .sort()
    .reduce((acc, k) => acc + k + form[k], url);
  return createHmac('sha1', AUTH_TOKEN).update(data).digest('base64');
}

let sid = 0;
const nextSid = (): string => `SM${(++sid).toString(16).padStart(32, '0')}`;

describe('bot messaging: /email/v1/send, /sms/v1/send and the Twilio webhook', () => {
  let srv: TestServer;
  let mail: MailCatcher;
  let sink: string;
  let root: string;

  beforeAll(async () => {
    mail = await startMailCatcher();
    sink = join(mkdtempSync(join(tmpdir(), 'hale-bot-sms-')), 'sms.jsonl');
    srv = await startTestServer({ SMTP_URL: mail.url, TWILIO_AUTH_TOKEN: AUTH_TOKEN, SMS_SINK_FILE: sink });
    root = srv.hale.url;
  });

  afterAll(async () => {
    await srv.stop();
    await mail.stop();
  });

  const post = (path: string, body: unknown, token = srv.systemToken) =>
    srv.request('POST', `${root}${path}`, body, { ...JSON_TYPE, authorization: token ? `Bearer ${token}` : '' });

  const smsSent = (to: string): string[] =>
    existsSync(sink)
      ? readFileSync(sink, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { to: string; body: string })
          .filter((m) => m.to === to)
          .map((m) => m.body)
      : [];

  const inbound = async (form: Record<string, string>, signature?: string) => {
    const url = `${root}/webhooks/twilio/sms`;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(signature === '' ? {} : { 'x-twilio-signature': signature ?? sign(url, form) }),
      },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  const message = (from: string, body: string, messageSid = nextSid()): Record<string, string> => ({
    MessageSid: messageSid,
    SmsSid: messageSid,
    AccountSid: 'AC00000000000000000000000000000000',
    From: from,
    To: '+15005550006',
    Body: body,
    NumMedia: '0',
  });

  const preferencesOf = async (patientId: string): Promise<Basic | undefined> =>
    (await srv.search(`Basic?subject=Patient/${patientId}`)).entry?.[0]?.resource as Basic | undefined;

  const consentEvents = async (patientId: string): Promise<AuditEvent[]> =>
    ((await srv.search(`AuditEvent?patient=Patient/${patientId}&type=110110`)).entry ?? []).map(
      (e) => e.resource as AuditEvent
    );

  test('a bot token sends mail through SMTP and gets Medplum’s allOk', async () => {
    const res = await post('/email/v1/send', {
      to: 'aroha@example.org',
      cc: [{ name: 'Care team', address: 'team@example.org' }],
      from: 'someone-else@example.com',
      subject: 'New care alert',
      text: 'Open Hale to read it.',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', id: 'ok' });
    const got = await mail.waitFor('aroha@example.org');
    expect(got.subject).toBe('New care alert');
    expect(got.text.trim()).toBe('Open Hale to read it.');
    expect((await mail.waitFor('team@example.org')).subject).toBe('New care alert');
  });

  test('only system tokens that may create Communication send (403 for a patient or a read-only bot)', async () => {
    const patient = await srv.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Ngata' }] });
    const accountId = await account(srv, ['patient'], { type: 'Patient', id: patient.id });
    const patientToken = await srv.token({ scopes: ['patient/*.cruds'], accountId, patient: patient.id });
    const readOnly = await srv.token({ scopes: ['system/Communication.rs', 'system/Patient.cruds'] });
    const narrow = await srv.token({ scopes: ['system/Communication.c'] });
    const body = { to: 'x@example.org', subject: 'Hello', text: 'Hi' };
    for (const token of [patientToken, readOnly]) {
      const res = await post('/email/v1/send', body, token);
      expect(res.status).toBe(403);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect((await post('/sms/v1/send', { to: '+64215550999', body: 'Hi' }, token)).status).toBe(403);
    }
    expect((await post('/email/v1/send', body, narrow)).status).toBe(200);
    expect((await post('/email/v1/send', body, '')).status).toBe(401);
  });

  test('bad addresses, too many recipients and a missing subject are 400', async () => {
    const base = { subject: 'Hello', text: 'Hi' };
    const bad = [
      { ...base, to: 'not-an-address' },
      { ...base, to: ['ok@example.org', 'Aroha <aroha@example.org>'] },
      { ...base, to: 'ok@example.org', bcc: 'x@@example.org' },
      { ...base, to: Array.from({ length: 51 }, (_, i) => `p${i}@example.org`) },
      { to: 'ok@example.org', text: 'Hi' },
      { ...base, to: 'ok@example.org', subject: 'two\r\nBcc: evil@example.org' },
      { to: 'ok@example.org', subject: 'Hello' },
      { ...base, to: 'ok@example.org', attachments: [{ filename: 'a.txt', content: 'x' }] },
    ];
    for (const body of bad) {
      const res = await post('/email/v1/send', body);
      expect([res.status, body]).toEqual([400, body]);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  });

  test('an SMS goes out through the SMS client; a malformed number or an overlong text is 400', async () => {
    const res = await post('/sms/v1/send', { to: '+64 21 555 0100', body: 'Your appointment is tomorrow.' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', id: 'ok' });
    expect(smsSent('+64215550100')).toEqual(['Your appointment is tomorrow.']);
    expect((await post('/sms/v1/send', { to: '021 555 0100', body: 'x' })).status).toBe(400);
    expect((await post('/sms/v1/send', { to: '+64215550100', body: 'x'.repeat(1601) })).status).toBe(400);
  });

  test('the webhook refuses a wrong or missing signature (403) and answers other texts with an empty TwiML', async () => {
    const form = message('+64215550200', 'STOP');
    expect((await inbound(form, sign(`${root}/webhooks/twilio/sms`, { ...form, Body: 'START' }))).status).toBe(403);
    expect((await inbound(form, '')).status).toBe(403);
    expect((await post('/sms/v1/send', { to: '+64215550200', body: 'still allowed' })).status).toBe(200);

    const chat = await inbound(message('+64215550200', 'please stop texting me at night'));
    expect(chat.status).toBe(200);
    expect(chat.type).toMatch(/^text\/xml/);
    expect(chat.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });

  test('STOP opts the number out (next send 409, preferences and audit updated); a replay counts once; START reverses it', async () => {
    const patient = await srv.create<Patient>({
      resourceType: 'Patient',
      name: [{ family: 'Parata' }],
      telecom: [{ system: 'phone', use: 'mobile', value: '+64215550300' }],
    });
    const stop = message('+64215550300', ' Stop. ');
    expect((await inbound(stop)).text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect((await inbound(stop)).status).toBe(200); // Twilio retrying the same MessageSid

    const refused = await post('/sms/v1/send', { to: '+64215550300', body: 'A reminder' });
    expect(refused.status).toBe(409);
    expect(refused.body.issue[0].details.text).toBe('the recipient has opted out of SMS');
    expect(smsSent('+64215550300')).toEqual([]);

    const prefs = await preferencesOf(patient.id);
    expect(isOptedOut(parsePreferences(prefs), 'sms')).toBe(true);
    expect(isOptedOut(parsePreferences(prefs), 'email')).toBe(false);
    const [event, ...more] = await consentEvents(patient.id);
    expect(more).toHaveLength(0);
    expect(event?.outcomeDesc).toBe('+64215550300 opted out of SMS (STOP by SMS)');
    expect(event?.agent?.[0]?.who?.reference).toBe(`Patient/${patient.id}`);
    expect(JSON.stringify(event)).not.toContain('Stop.');

    expect((await inbound(message('+64215550300', 'unstop'))).status).toBe(200);
    expect(isOptedOut(parsePreferences(await preferencesOf(patient.id)), 'sms')).toBe(false);
    expect((await consentEvents(patient.id)).map((e) => e.outcomeDesc).sort()).toEqual([
      '+64215550300 opted in to SMS again (UNSTOP by SMS)',
      '+64215550300 opted out of SMS (STOP by SMS)',
    ]);
    expect((await post('/sms/v1/send', { to: '+64215550300', body: 'Welcome back' })).status).toBe(200);
    expect(smsSent('+64215550300')).toEqual(['Welcome back']);
  });

  test('a STOP from a number no person has still blocks sending to it until START', async () => {
    expect((await inbound(message('+14155550400', 'QUIT'))).status).toBe(200);
    expect((await post('/sms/v1/send', { to: '+14155550400', body: 'x' })).status).toBe(409);
    expect((await inbound(message('+14155550400', 'START'))).status).toBe(200);
    expect((await post('/sms/v1/send', { to: '+14155550400', body: 'x' })).status).toBe(200);
  });

  test('HELP answers with TwiML naming the service and how to stop, once per message', async () => {
    const help = message('+64215550500', 'help');
    const res = await inbound(help);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/xml/);
    expect(res.text).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Message>Hale health record notifications \(127\.0\.0\.1\)\. Reply STOP .*<\/Message><\/Response>$/
    );
    expect((await inbound(help)).text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });
});

describe('bot messaging without Twilio webhook settings or a working mail server', () => {
  let srv: TestServer;

  beforeAll(async () => {
    // Nothing listens on port 9 of localhost: the SMTP connection is refused.
    srv = await startTestServer({ SMTP_URL: 'smtp://127.0.0.1:9' });
  });

  afterAll(async () => {
    await srv.stop();
  });

  test('the webhook is not there without TWILIO_AUTH_TOKEN (404)', async () => {
    const res = await fetch(`${srv.hale.url}/webhooks/twilio/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'x' },
      body: 'MessageSid=SM1&From=%2B64215550600&Body=STOP',
    });
    expect(res.status).toBe(404);
  });

  test('a mail the mail server does not take is 502', async () => {
    const res = await srv.request(
      'POST',
      `${srv.hale.url}/email/v1/send`,
      { to: 'a@example.org', subject: 'Hello', text: 'Hi' },
      JSON_TYPE
    );
    expect(res.status).toBe(502);
    expect(res.body.issue[0].details.text).toBe('The mail server did not accept the mail');
  });
});
