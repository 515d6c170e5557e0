import type { Answer } from './ingest-load';
import { expectIntact, faultRig } from './fault-hale';
import { IngestLoad } from './ingest-load';
import { postgresBin } from './pg-cluster';

const withPostgres = postgresBin() ? describe : describe.skip;
/** Longer than Hale's own limits (connect 10 s): an answer that takes this long is a hung request. */
const REQUEST_TIMEOUT_MS = 20_000;

withPostgres('PostgreSQL stopped (immediate) under load, then started', () => {
  const rig = faultRig();

  test('Hale answers 503 with Retry-After while the database is gone, recovers by itself, and loses nothing', async () => {
    const { cluster, hale } = rig;
    const target = { fhirBase: hale.fhirBase, token: hale.token };
    const load = new IngestLoad(() => target, { clients: 4, requestTimeoutMs: REQUEST_TIMEOUT_MS, name: 'pgstop' });
    load.start();
    expect(await load.acknowledged(10, 60_000)).toBe(true);
    const before = load.answers.length;
    cluster.stop('immediate');
    // Down for a few seconds: long enough for every client to be answered several times.
    await new Promise((r) => setTimeout(r, 4_000));
    const during: Answer[] = load.answers.slice(before);
    cluster.start();
    const downAt = Date.now();
    expect(await load.acknowledged(10, 60_000)).toBe(true);
    const recoveredMs = Date.now() - downAt;
    await load.stop();

    expect(during.length).toBeGreaterThan(0);
    const refused = during.filter((a) => a.status !== 200);
    expect(refused.length).toBeGreaterThan(0);
    // Every refusal while it was down: a 503 OperationOutcome that says when to come back, never a hang or a 500.
    expect(refused.filter((a) => a.status !== 503)).toEqual([]);
    expect(refused.every((a) => a.retryAfter !== undefined && a.resourceType === 'OperationOutcome')).toBe(true);
    expect(load.answers.every((a) => a.ms < REQUEST_TIMEOUT_MS)).toBe(true);
    await expectIntact(cluster, load);
    console.info(
      `postgres-stop: ${load.answers.length} answers, ${refused.length} refused while down (503), ` +
        `${load.acked.size} bundles acknowledged and checked, recovered ${recoveredMs} ms after the start`
    );
  }, 240_000);
});
