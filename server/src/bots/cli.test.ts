import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Bot, Bundle, Subscription } from '@medplum/fhirtypes';
import { useTestServer } from '../test/bundles';
import { BOT_ACCESS_URL } from './bot-token';

const ROOT = join(__dirname, '../../..');
const server = useTestServer();

/** `npm run hale -- …` as an operator runs it, against the test server's database. */
function hale(args: string[], databaseUrl: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/cli.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end();
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

describe('hale bot deploy', () => {
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
