import type { AuditEvent, Basic, Bot, Bundle, Flag, Parameters, Patient } from '@medplum/fhirtypes';
import { sql } from '../db/sql';
import { useTestServer } from '../test/bundles';
import { account } from '../test/consent-fixtures';
import { deployBot, eventually } from '../test/bots';

const server = useTestServer({ BOT_TIMEOUT_MS: '3000' });

/** A Subscription delivering to the bot in batches of up to 10 events (backport-max-count). */
async function batchingSubscription(
  srv: ReturnType<typeof server>,
  botId: string,
  criteria: string,
  reason: string
): Promise<void> {
  await srv.create({
    resourceType: 'Subscription',
    status: 'active',
    reason,
    criteria,
    channel: {
      type: 'rest-hook',
      endpoint: `Bot/${botId}`,
      extension: [
        {
          url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-max-count',
          valuePositiveInt: 10,
        },
      ],
    },
  });
}

const FLAG_BOT = `
exports.handler = async function (medplum, event) {
  const obs = event.input;
  await medplum.createResource({
    resourceType: 'Flag', status: 'active',
    code: { text: 'heart rate ' + obs.valueQuantity.value },
    subject: obs.subject,
  });
  return 'flagged';
};`;

describe('Bot $deploy and $execute', () => {
  test('a deployed bot runs with its own token and answers with its return value', async () => {
    const srv = server();
    await srv.create({ resourceType: 'Patient', name: [{ family: 'Ngata' }] });
    const bot = await deployBot(
      srv,
      `exports.handler = async (medplum, event) => {
         const patients = await medplum.searchResources('Patient');
         return { input: event.input, contentType: event.contentType, patients: patients.length, bot: event.bot.reference };
       };`,
      'system/Patient.rs'
    );
    const res = await srv.post(`Bot/${bot.id}/$execute`, { hello: 'world' }, { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      input: { hello: 'world' },
      contentType: 'application/json',
      patients: 1,
      bot: `Bot/${bot.id}`,
    });
  });

  test('text input and a string answer; GET passes the query as input', async () => {
    const srv = server();
    const bot = await deployBot(
      srv,
      `exports.handler = async (m, e) => typeof e.input === 'string' ? e.input.toUpperCase() : e.input;`,
      ''
    );
    const text = await srv.request('POST', `Bot/${bot.id}/$execute`, 'MSH|^~\\&|hello', {
      'content-type': 'x-application/hl7-v2+er7',
    });
    expect(text.status).toBe(200);
    expect(text.body).toBe('MSH|^~\\&|HELLO');
    const get = await srv.get(`Bot/${bot.id}/$execute?name=x&n=2`);
    expect(get.status).toBe(200);
    expect(get.body).toEqual({ name: 'x', n: '2' });
  });

  test("a bot's access is its declared scopes, not the caller's", async () => {
    const srv = server();
    const bot = await deployBot(
      srv,
      `exports.handler = async (m) => { await m.createResource({ resourceType: 'Patient' }); return 'wrote'; };`,
      'system/Patient.rs'
    );
    const res = await srv.post(`Bot/${bot.id}/$execute`, {});
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.text).toMatch(/error/);
  });

  test('a bot that throws, loops or has no code is a 4xx, and the server goes on answering', async () => {
    const srv = server();
    const throws = await deployBot(srv, `exports.handler = async () => { throw new Error('no such thing'); };`, '');
    const thrown = await srv.post(`Bot/${throws.id}/$execute`, {});
    expect(thrown.status).toBe(400);
    expect(thrown.body.issue[0].details.text).toContain('no such thing');

    const loops = await deployBot(srv, `exports.handler = async () => { while (true) {} };`, '');
    const [looped, read] = await Promise.all([
      srv.post(`Bot/${loops.id}/$execute`, {}),
      (async () => {
        await new Promise((r) => setTimeout(r, 200));
        return srv.get('Patient?_count=1');
      })(),
    ]);
    expect(read.status).toBe(200);
    expect(looped.status).toBe(400);
    expect(looped.body.issue[0].details.text).toMatch(/timeout/);

    const empty = await srv.create<Bot>({ resourceType: 'Bot', name: 'empty' });
    const none = await srv.post(`Bot/${empty.id}/$execute`, {});
    expect(none.status).toBe(400);
    expect(none.body.issue[0].details.text).toMatch(/no deployed code/);
    const missing = await srv.post('Bot/no-such-bot/$execute', {});
    expect(missing.status).toBe(404);
  });

  test('code that does not parse is refused at deploy', async () => {
    const srv = server();
    const bot = await srv.create<Bot>({ resourceType: 'Bot', name: 'broken' });
    const res = await srv.post(`Bot/${bot.id}/$deploy`, { code: 'exports.handler = (' });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.text).toMatch(/does not parse/);
  });

  test('a patient may not execute or deploy a bot', async () => {
    const srv = server();
    const bot = await deployBot(srv, `exports.handler = async () => 'ok';`, '');
    const patient = await srv.create({ resourceType: 'Patient' });
    const person = await account(srv, ['patient'], { type: 'Patient', id: patient.id });
    const token = await srv.token({
      scopes: ['patient/*.cruds', 'user/*.cruds'],
      accountId: person,
      patient: patient.id,
    });
    const auth = { authorization: `Bearer ${token}` };
    expect([403, 404]).toContain((await srv.post(`Bot/${bot.id}/$execute`, {}, auth)).status);
    expect([403, 404]).toContain((await srv.post(`Bot/${bot.id}/$deploy`, { code: 'x' }, auth)).status);
  });

  test('secrets reach the bot and are never returned by a read', async () => {
    const srv = server();
    const bot = await deployBot(srv, `exports.handler = async (m, e) => e.secrets.API_KEY.valueString;`, '');
    const set = await srv.post<Parameters>(`Bot/${bot.id}/$secrets`, {
      resourceType: 'Parameters',
      parameter: [{ name: 'API_KEY', valueString: 's3cr3t-value' }],
    });
    expect(set.status).toBe(200);
    expect(set.body.parameter).toEqual([{ name: 'name', valueString: 'API_KEY' }]);
    expect((await srv.post(`Bot/${bot.id}/$execute`, {})).body).toBe('s3cr3t-value');
    const read = await srv.get(`Bot/${bot.id}`);
    expect(JSON.stringify(read.body)).not.toContain('s3cr3t-value');
    const history = await srv.get(`Bot/${bot.id}/_history`);
    expect(JSON.stringify(history.body)).not.toContain('s3cr3t-value');
    const bad = await srv.post(`Bot/${bot.id}/$secrets`, {
      resourceType: 'Parameters',
      parameter: [{ name: 'bad name!', valueString: 'x' }],
    });
    expect(bad.status).toBe(400);
  });
});

describe('Subscriptions and the outbox', () => {
  test('a committed matching write runs the bot once; a non-matching or rolled-back one never does', async () => {
    const srv = server();
    const bot = await deployBot(srv, FLAG_BOT, 'system/Flag.c');
    const sub = await srv.create({
      resourceType: 'Subscription',
      status: 'active',
      reason: 'flag heart rates',
      criteria: 'Observation?code=http://loinc.org|8867-4',
      channel: { type: 'rest-hook', endpoint: `Bot/${bot.id}` },
    });
    const patient = await srv.create({ resourceType: 'Patient' });
    const obs = (code: string, value: number): Record<string, unknown> => ({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code }] },
      subject: { reference: `Patient/${patient.id}` },
      valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    });
    await srv.post('Observation', obs('8867-4', 131));
    await srv.post('Observation', obs('29463-7', 80)); // another code: no match
    // A transaction that fails after writing a matching Observation commits nothing, so fires nothing.
    const failed = await srv.post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: obs('8867-4', 132), request: { method: 'POST', url: 'Observation' } },
        { resource: { resourceType: 'Observation' }, request: { method: 'POST', url: 'Observation' } },
      ],
    });
    expect(failed.status).toBe(400);
    const flags = await eventually(async () => {
      const b = await srv.search(`Flag?subject=Patient/${patient.id}`);
      return (b.entry?.length ?? 0) > 0 ? b : undefined;
    });
    await new Promise((r) => setTimeout(r, 500)); // anything else would have arrived by now
    const again = await srv.search(`Flag?subject=Patient/${patient.id}`);
    expect(again.entry).toHaveLength(1);
    expect((flags.entry?.[0]?.resource as Flag).code.text).toBe('heart rate 131');
    // The run is audited: bot, trigger, outcome, and the version it was about.
    const run = await eventually(async () => {
      const audits = await srv.search(`AuditEvent?entity=Bot/${bot.id}`);
      return audits.entry?.map((e) => e.resource as AuditEvent).find((a) => a.subtype?.[0]?.code === 'subscription');
    });
    expect(run?.outcome).toBe('0');
    expect(run?.entity?.some((e) => e.what?.reference?.startsWith('Observation/'))).toBe(true);
    expect(sub.id).toBeDefined();
  });

  test('an invalid Subscription is refused at write', async () => {
    const srv = server();
    const base = {
      resourceType: 'Subscription',
      status: 'active',
      reason: 'x',
      channel: { type: 'rest-hook', endpoint: 'Bot/x' },
    };
    for (const criteria of ['Nonsense?x=1', 'Observation?no-such-param=1', '']) {
      const res = await srv.post('Subscription', { ...base, criteria });
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    const http = await srv.post('Subscription', {
      ...base,
      criteria: 'Patient',
      channel: { type: 'rest-hook', endpoint: 'http://example.org/hook' },
    });
    expect(http.status).toBe(400);
  });

  test('a Subscription with backport-max-count delivers its events together: a history Bundle, each event once', async () => {
    const srv = server();
    const bot = await deployBot(
      srv,
      `exports.handler = async function (medplum, event) {
        const bundle = event.input;
        const entries = bundle.entry.map((e) => ({
          request: { method: 'POST', url: 'Basic' },
          resource: {
            resourceType: 'Basic',
            code: { text: bundle.resourceType + ' ' + bundle.type + ' of ' + bundle.entry.length },
            identifier: [{ system: 'https://hale.test/seen', value: e.resource.id }],
            subject: { reference: e.request.method + ' ' + e.request.url },
          },
        }));
        await medplum.executeBatch({ resourceType: 'Bundle', type: 'transaction', entry: entries });
        return bundle.entry.length;
      };`,
      'system/Basic.c'
    );
    await batchingSubscription(srv, bot.id, 'Patient?family=Batched', 'patients in batches');
    const written = await srv.post<Bundle>('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: Array.from({ length: 30 }, () => ({
        resource: { resourceType: 'Patient', name: [{ family: 'Batched' }] },
        request: { method: 'POST', url: 'Patient' },
      })),
    });
    expect(written.status).toBe(200);
    const ids = (written.body.entry ?? []).map((e) => e.response?.location?.split('/')[1]);
    const seen = await eventually(async () => {
      const b = await srv.search('Basic?identifier=https://hale.test/seen|&_count=100');
      return (b.entry?.length ?? 0) >= 30 ? b : undefined;
    });
    await new Promise((r) => setTimeout(r, 500)); // a second delivery would have arrived by now
    const all =
      (await srv.search('Basic?identifier=https://hale.test/seen|&_count=100')).entry?.map(
        (e) => e.resource as Basic
      ) ?? [];
    expect(all).toHaveLength(30);
    expect(new Set(all.map((b) => b.identifier?.[0]?.value))).toEqual(new Set(ids));
    const sizes = all.map((b) => Number(/of (\d+)$/.exec(b.code.text ?? '')?.[1]));
    expect(all.every((b) => b.code.text?.startsWith('Bundle history of '))).toBe(true);
    expect(all.every((b) => b.subject?.reference === 'POST Patient')).toBe(true);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    const runs = await srv.hale.db.query<{ n: string }>(
      sql`SELECT count(*) AS n FROM bot_job WHERE state = 'done' AND resource_type = 'Patient'`
    );
    expect(Number(runs[0]?.n)).toBe(30);
    const audits = await srv.search(`AuditEvent?entity=Bot/${bot.id}&_count=100`);
    const subscriptionRuns = (audits.entry ?? []).filter(
      (e) => (e.resource as AuditEvent).subtype?.[0]?.code === 'subscription'
    );
    // Each run delivered several events: fewer runs than events, and each run names the versions it carried.
    expect(subscriptionRuns.length).toBeGreaterThanOrEqual(3);
    expect(subscriptionRuns.length).toBeLessThan(30);
    expect(seen.entry?.length).toBeGreaterThanOrEqual(30);
    const named = subscriptionRuns.flatMap(
      (e) => (e.resource as AuditEvent).entity?.filter((x) => x.what?.reference?.startsWith('Patient/')) ?? []
    );
    expect(named).toHaveLength(30);
  });

  test('a batch reads each event at its own version, older ones from history', async () => {
    const srv = server();
    const bot = await deployBot(
      srv,
      `exports.handler = async function (medplum, event) {
        const entries = event.input.entry.map((e) => ({
          request: { method: 'POST', url: 'Basic' },
          resource: {
            resourceType: 'Basic',
            code: { text: e.request.method + ' ' + e.resource.meta.versionId + ' ' + e.resource.name[0].given[0] },
            identifier: [{ system: 'https://hale.test/versions', value: e.resource.id }],
          },
        }));
        await medplum.executeBatch({ resourceType: 'Bundle', type: 'transaction', entry: entries });
      };`,
      'system/Basic.c'
    );
    await batchingSubscription(srv, bot.id, 'Patient?family=Versioned', 'versions in batches');
    const patient = await srv.create<Patient>({
      resourceType: 'Patient',
      name: [{ family: 'Versioned', given: ['a'] }],
    });
    for (const given of ['b', 'c']) {
      const res = await srv.put(`Patient/${patient.id}`, {
        ...patient,
        name: [{ family: 'Versioned', given: [given] }],
      });
      expect(res.status).toBe(200);
    }
    const seen = await eventually(async () => {
      const b = await srv.search(`Basic?identifier=https://hale.test/versions|${patient.id}&_count=10`);
      return (b.entry?.length ?? 0) >= 3 ? b : undefined;
    });
    const texts = (seen.entry ?? []).map((e) => (e.resource as Basic).code.text).sort();
    expect(texts).toEqual(['POST 1 a', 'PUT 2 b', 'PUT 3 c']);
  });

  test('backport-max-count out of range is refused at write', async () => {
    const srv = server();
    for (const value of [0, 1001, 2.5]) {
      const res = await srv.post('Subscription', {
        resourceType: 'Subscription',
        status: 'active',
        reason: 'x',
        criteria: 'Patient',
        channel: {
          type: 'rest-hook',
          endpoint: 'Bot/x',
          extension: [
            {
              url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-max-count',
              valueInteger: value,
            },
          ],
        },
      });
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  });

  test('a failing bot is retried, then dead; an admin lists and retries dead jobs', async () => {
    const srv = server();
    const bot = await deployBot(srv, `exports.handler = async () => { throw new Error('always fails'); };`, '');
    await srv.create({
      resourceType: 'Subscription',
      status: 'active',
      reason: 'x',
      criteria: 'Patient?family=Doomed',
      channel: { type: 'rest-hook', endpoint: `Bot/${bot.id}` },
    });
    // Speed the backoff up: the job's retries are due at once.
    const writer = await srv.post('Patient', { resourceType: 'Patient', name: [{ family: 'Doomed' }] });
    expect(writer.status).toBe(201);
    const dead = await eventually(async () => {
      await srv.hale.db.query(sqlDue);
      srv.hale.bots?.kick();
      const res = await srv.get<Parameters>(`Bot/$bot-runs?bot=${bot.id}&state=dead`);
      return (res.body.parameter?.length ?? 0) > 0 ? res.body : undefined;
    });
    const job = dead.parameter?.[0]?.part ?? [];
    expect(job.find((p) => p.name === 'attempts')?.valueInteger).toBe(5);
    expect(job.find((p) => p.name === 'error')?.valueString).toContain('always fails');
    const id = job.find((p) => p.name === 'id')?.valueString ?? '';
    const retried = await srv.post<Parameters>('Bot/$bot-runs', {
      resourceType: 'Parameters',
      parameter: [{ name: 'retry', valueString: id }],
    });
    expect(retried.status).toBe(200);
    const notDead = await srv.post('Bot/$bot-runs', {
      resourceType: 'Parameters',
      parameter: [{ name: 'retry', valueString: '999999' }],
    });
    expect(notDead.status).toBe(400);
  });

  test('a cron tick runs a scheduled bot once, however many times it is added', async () => {
    const srv = server();
    const bot = await deployBot(
      srv,
      `exports.handler = async (m) => { await m.createResource({ resourceType: 'Basic', code: { text: 'tick' } }); };`,
      'system/Basic.c',
      {
        cronString: '*/5 * * * *',
      }
    );
    const runtime = srv.hale.bots;
    if (!runtime) {
      throw new Error('bots are off');
    }
    expect(await runtime.tickCron(new Date('2026-12-07T10:03:00Z'))).toBe(0); // not a multiple of 5
    expect(await runtime.tickCron(new Date('2026-12-07T10:05:00Z'))).toBe(1);
    expect(await runtime.tickCron(new Date('2026-12-07T10:05:00Z'))).toBe(0); // another replica's second try
    await eventually(async () => {
      const b = await srv.search('Basic?code:text=tick&_summary=count');
      return b.total === 1 ? b : undefined;
    });
    const bad = await srv.post('Bot', { resourceType: 'Bot', name: 'x', cronString: 'every day' });
    expect(bad.status).toBe(400);
    expect(bot.id).toBeDefined();
  });
});

const sqlDue = sql`UPDATE bot_job SET run_after = now() WHERE state = 'pending'`;
