import type { Bundle } from '@medplum/fhirtypes';
import { loadConfig } from '../config';
import { sql } from '../db/sql';
import { createLogger } from '../logger';
import type { RunningHale } from '../server';
import { startHale } from '../server';
import { useTestServer } from '../test/bundles';
import { deployBot, eventually } from '../test/bots';
import { freePort } from '../test/ports';

// Two replicas sharing PostgreSQL and Redis (BullMQ): each subscription event runs exactly once.
const REDIS = process.env.TEST_REDIS_URL;
const withRedis = REDIS ? describe : describe.skip;

const COUNTING_BOT = `
exports.handler = async function (medplum, event) {
  await medplum.createResource({
    resourceType: 'Basic',
    code: { text: 'seen' },
    identifier: [{ system: 'https://hale.test/seen/' + event.headers['X-Hale-Subscription'], value: event.input.id }],
  });
};`;

/** The same, for a batch: one Basic per event of the history Bundle. */
const BATCH_COUNTING_BOT = `
exports.handler = async function (medplum, event) {
  for (const e of event.input.entry) {
    await medplum.createResource({
      resourceType: 'Basic',
      code: { text: 'seen' },
      identifier: [{ system: 'https://hale.test/seen/' + event.headers['X-Hale-Subscription'], value: e.resource.id }],
    });
  }
};`;

withRedis('bots on two replicas with Redis', () => {
  const server = useTestServer({ REDIS_URL: REDIS ?? '' });
  let second: RunningHale | undefined;

  afterEach(async () => {
    await second?.stop(); // before the shared database is dropped
  });

  async function startSecond(srv: ReturnType<typeof server>): Promise<{ replica: RunningHale; port: number }> {
    const port = await freePort();
    const config = loadConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      // Behind one load balancer, replicas share the public URL (tokens name it as their audience).
      BASE_URL: srv.hale.url,
      DATABASE_URL: srv.databaseUrl,
      REDIS_URL: REDIS,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      NODE_ENV: 'test',
    });
    second = await startHale(config, createLogger(config.logLevel));
    return { replica: second, port };
  }

  /** Writes `count` Patients, alternating between the replicas; every write answers 201. */
  async function writePatients(srv: ReturnType<typeof server>, port: number, count: number): Promise<void> {
    const secondBase = `http://127.0.0.1:${port}/fhir/R4/Patient`;
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const body = { resourceType: 'Patient', name: [{ family: `replica-${i}` }] };
      const write =
        i % 2 === 0
          ? srv.post('Patient', body)
          : fetch(secondBase, {
              method: 'POST',
              headers: { authorization: `Bearer ${srv.systemToken}`, 'content-type': 'application/fhir+json' },
              body: JSON.stringify(body),
            });
      // A CI run once lost one of these to `read ECONNRESET` that no rerun repeated: the message names the
      // replica and the socket error, so the next one says whether it was a reused keep-alive socket or a reset.
      writes.push(
        write.catch((err: Error & { cause?: { code?: string; message?: string } }) => {
          const replica = i % 2 === 0 ? 'first' : 'second';
          throw new Error(`write ${i} to the ${replica} replica failed: ${err.message} (${err.cause?.code ?? ''})`, {
            cause: err,
          });
        })
      );
    }
    for (const a of await Promise.all(writes)) {
      expect((a as { status: number }).status).toBe(201);
    }
  }

  /** Waits for the Subscription's `count` events done, then checks each was seen once and attempted once. */
  async function expectEachOnce(srv: ReturnType<typeof server>, subscription: string, count: number): Promise<void> {
    await eventually(async () => {
      const [row] = await srv.hale.db.query<{ n: string }>(
        sql`SELECT count(*) AS n FROM bot_job WHERE state = 'done' AND subscription_id = ${subscription}`
      );
      return Number(row?.n) === count ? true : undefined;
    }, 60_000); // two replicas' sandboxes start on a shared two-core machine
    const seen = await srv.get<Bundle>(`Basic?identifier=https://hale.test/seen/${subscription}|&_count=100`);
    const ids = (seen.body.entry ?? []).map(
      (e) => (e.resource as { identifier?: { value?: string }[] }).identifier?.[0]?.value
    );
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);
    const attempts = await srv.hale.db.query<{ attempts: number }>(
      sql`SELECT attempts FROM bot_job WHERE subscription_id = ${subscription}`
    );
    expect(attempts.every((a) => a.attempts === 1)).toBe(true);
  }

  test('events written on either replica run once each, on whichever replica takes them', async () => {
    const srv = server();
    const { replica, port } = await startSecond(srv);
    const bot = await deployBot(srv, COUNTING_BOT, 'system/Basic.c');
    const sub = await srv.create({
      resourceType: 'Subscription',
      status: 'active',
      reason: 'count patients',
      criteria: 'Patient',
      channel: { type: 'rest-hook', endpoint: `Bot/${bot.id}` },
    });
    // The other replica sees the new Subscription within its reload interval.
    await eventually(async () => (replica.bots?.registry.get(sub.id ?? '') ? true : undefined));
    await writePatients(srv, port, 20);
    await expectEachOnce(srv, sub.id ?? '', 20);
  });

  test('a batching Subscription (backport-max-count) delivers each event once across replicas', async () => {
    const srv = server();
    const { replica, port } = await startSecond(srv);
    const bot = await deployBot(srv, BATCH_COUNTING_BOT, 'system/Basic.c');
    const sub = await srv.create({
      resourceType: 'Subscription',
      status: 'active',
      reason: 'count patients in batches',
      criteria: 'Patient',
      channel: {
        type: 'rest-hook',
        endpoint: `Bot/${bot.id}`,
        extension: [
          {
            url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-max-count',
            valuePositiveInt: 5,
          },
        ],
      },
    });
    await eventually(async () => (replica.bots?.registry.get(sub.id ?? '') ? true : undefined));
    await writePatients(srv, port, 30);
    await expectEachOnce(srv, sub.id ?? '', 30);
  });
});
