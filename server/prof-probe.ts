import { readFileSync } from 'node:fs';
import { createTestDatabase } from './src/test/test-db';
import { loadConfig } from './src/config';
import { createLogger } from './src/logger';
import { startHale } from './src/server';
(async () => {
  const db = await createTestDatabase();
  const config = loadConfig({ PORT: '0', DATABASE_URL: db.url, LOG_LEVEL: 'silent', GRAPHQL_WARMUP: 'false' });
  const hale = await startHale(config, createLogger('silent'));
  const text = readFileSync('/work/shared/fixtures/synthea/patient-12.json', 'utf8');
  for (let i = 0; i < 8; i++) {
    const t = performance.now();
    const res = await fetch(hale.fhirBaseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: text });
    await res.text();
    console.log('status', res.status, 'ms', (performance.now() - t).toFixed(0), 'res/s', (710 / ((performance.now() - t) / 1000)).toFixed(0));
  }
  await hale.stop(); await db.drop();
})();
