import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ ANALYZE_AFTER_WRITES: '20' });
});
afterAll(async () => {
  await s?.stop();
});

test('planner statistics are refreshed in the background after enough writes', async () => {
  const lastAnalyze = async (): Promise<string | null> => {
    const rows = await s.hale.db.pool.query<{ last_analyze: string | null }>(
      "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'idx_token'"
    );
    return rows.rows[0]?.last_analyze ?? null;
  };
  expect(await lastAnalyze()).toBeNull();
  await s.post('', {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: Array.from({ length: 25 }, (_, i) => ({
      resource: { resourceType: 'Patient', name: [{ family: `Stats${i}` }], gender: 'female' },
      request: { method: 'POST', url: 'Patient' },
    })),
  });
  let analyzed: string | null = null;
  for (let i = 0; i < 50 && !analyzed; i++) {
    await new Promise((r) => setTimeout(r, 100));
    analyzed = await lastAnalyze();
  }
  expect(analyzed).not.toBeNull();
});

test('a round waits nine times the last one’s ANALYZE time, and still runs when the writes have stopped', async () => {
  const statistics = s.hale.statistics;
  const write = (n: number): Promise<unknown> =>
    s.post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: Array.from({ length: n }, (_, i) => ({
        resource: { resourceType: 'Patient', name: [{ family: `Duty${i}` }] },
        request: { method: 'POST', url: 'Patient' },
      })),
    });
  const settled = async (count: number): Promise<void> => {
    for (let i = 0; i < 100 && statistics.rounds.length < count; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await settled(1); // the first test's round
  const before = statistics.rounds.length;
  expect(before).toBeGreaterThan(0);
  // Enough growth for a round, twice in a row: the second has to wait for the first's idle time.
  await write(200);
  await settled(before + 1);
  await write(400);
  await settled(before + 2);
  const [first, second] = statistics.rounds.slice(before);
  expect(first).toBeDefined();
  expect(second).toBeDefined();
  if (first && second) {
    expect(second.startedAt).toBeGreaterThanOrEqual(first.endedAt + 9 * first.busyMs);
  }
});
