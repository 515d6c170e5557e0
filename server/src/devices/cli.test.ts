import { useTestServer } from '../test/bundles';
import { runHaleCli as hale } from '../test/hale-cli';

const server = useTestServer();

// The CLI opens the database itself while the test server holds it: the embedded test database (no
// TEST_DATABASE_URL) is a single PGlite session, so this needs a PostgreSQL server, as CI has.
const describeWithServerDatabase = process.env.TEST_DATABASE_URL ? describe : describe.skip;

describeWithServerDatabase('hale import-device', () => {
  test('imports a Fitbit file for a patient, the metric from its name; again, it finds every reading', async () => {
    const srv = server();
    const patient = (await srv.post<{ id: string }>('Patient', { resourceType: 'Patient' })).body.id;
    const file = 'server/src/devices/testdata/heart_rate-2024-01-15.json';
    const first = await hale(['import-device', 'fitbit', file, '--patient', patient], srv.databaseUrl);
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ created: { 'heart-rate': 3 }, existing: {}, rejected: 1 });
    expect(first.stderr).toContain('3 created');
    const again = await hale(['import-device', 'fitbit', file, '--patient', patient], srv.databaseUrl);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: {}, existing: { 'heart-rate': 3 } });
    const usage = await hale(['import-device', 'polar', file], srv.databaseUrl);
    expect(usage.status).toBe(2);
  }, 90_000);
});
