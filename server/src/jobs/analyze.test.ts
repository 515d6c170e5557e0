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
