import type { Bot, Bundle, Subscription } from '@medplum/fhirtypes';
import { useTestServer } from '../test/bundles';
import { runHaleCli as hale } from '../test/hale-cli';
import { BOT_ACCESS_URL } from './bot-token';
import type { InstallReport } from './install';

const server = useTestServer();

// The CLI opens the database itself while the test server holds it; the embedded test database
// (no TEST_DATABASE_URL) is a single PGlite session, so these need a PostgreSQL server, as CI has.
const describeWithServerDatabase = process.env.TEST_DATABASE_URL ? describe : describe.skip;

describeWithServerDatabase('hale bot deploy', () => {
  test('bundles a TypeScript bot, deploys it with its scopes and subscription, and redeploys in place', async () => {
    const srv = server();
    const file = 'server/src/bots/testdata/echo-bot.ts';
    const args = ['bot', 'deploy', file, '--scope', 'system/Patient.rs', '--subscribe', 'Patient?family=Echo'];
    const first = await hale(args, srv.databaseUrl);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const out = JSON.parse(first.stdout) as { bot: string; subscriptions: string[] };
    const bot = (await srv.get<Bot>(`Bot/${out.bot}`)).body;
    expect(bot.name).toBe('echo-bot');
    expect(bot.extension).toEqual([{ url: BOT_ACCESS_URL, valueString: 'system/Patient.rs' }]);
    expect(bot.executableCode?.url).toMatch(/^Binary\//);
    const sub = (await srv.get<Subscription>(`Subscription/${out.subscriptions[0]}`)).body;
    expect(sub).toMatchObject({
      status: 'active',
      criteria: 'Patient?family=Echo',
      channel: { endpoint: `Bot/${out.bot}` },
    });

    const patient = await srv.create({ resourceType: 'Patient', name: [{ family: 'Other' }] });
    const run = await srv.post(`Bot/${out.bot}/$execute`, patient, { 'content-type': 'application/fhir+json' });
    expect(run.status).toBe(200);
    expect(run.body).toEqual({ about: `Patient/${patient.id}`, patients: 1 });

    const again = await hale(args, srv.databaseUrl);
    expect(again.status).toBe(0);
    const second = JSON.parse(again.stdout) as { bot: string; subscriptions: string[] };
    expect(second.bot).toBe(out.bot);
    expect(second.subscriptions).toEqual(out.subscriptions);
    const bots = await srv.get<Bundle>('Bot?name=echo-bot');
    expect(bots.body.total ?? bots.body.entry?.length).toBe(1);
  });

  test('a file that does not build is an error, nothing deployed', async () => {
    const srv = server();
    const run = await hale(['bot', 'deploy', 'server/src/bots/testdata/no-such-bot.ts'], srv.databaseUrl);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Could not resolve|no-such-bot/);
  });
});

describeWithServerDatabase('hale bot install', () => {
  test('deploys every bot of bots/bots.json and the default rules; a second run changes nothing', async () => {
    const srv = server();
    const first = await hale(['bot', 'install', '--secret', 'PORTAL_URL=https://portal.example.org'], srv.databaseUrl);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const report = JSON.parse(first.stdout) as InstallReport;
    expect(report.bots.map((b) => b.name)).toEqual([
      'clinical-rules',
      'derived-measurements',
      'expiry',
      'notifications',
      'reminders',
      'weekly-summary',
      'sharing-requests',
      'install-rules',
    ]);
    expect(report.bots.find((b) => b.name === 'notifications')?.secrets).toEqual(['PORTAL_URL']);
    expect(report.rules.filter((r) => r.created)).toHaveLength(5);
    const notifications = (await srv.get<Bot>(`Bot/${report.bots[3]?.bot}`)).body;
    expect(notifications.cronString).toBe('* * * * *');
    expect((await srv.get(`Bot/${notifications.id}/$secrets`)).body.parameter).toEqual([
      { name: 'name', valueString: 'PORTAL_URL' },
    ]);

    const again = await hale(['bot', 'install', '--manifest', 'bots/bots.json'], srv.databaseUrl);
    expect(again.status).toBe(0);
    const second = JSON.parse(again.stdout) as InstallReport;
    expect(second.bots.map((b) => [b.bot, b.resource, b.code])).toEqual(
      report.bots.map((b) => [b.bot, 'unchanged', 'unchanged'])
    );
    expect(second.rules.some((r) => r.created)).toBe(false);
  });

  test('a secret no bot of the manifest reads is refused before anything is written', async () => {
    const srv = server();
    const before = (await srv.search('Bot/_history?_count=1000')).entry?.length;
    const run = await hale(['bot', 'install', '--secret', 'NOT_READ=x'], srv.databaseUrl);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/no bot of the manifest reads the secret NOT_READ/);
    expect((await srv.search('Bot/_history?_count=1000')).entry?.length).toBe(before);
  });
});
