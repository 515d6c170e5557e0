import type { Bot } from '@medplum/fhirtypes';
import { BOT_ACCESS_URL } from '../bots/bot-token';
import type { TestServer } from './test-server';

/** Creates a Bot with these scopes and deploys this CommonJS code to it. */
export async function deployBot(
  srv: TestServer,
  code: string,
  scopes = 'system/*.cruds',
  extra: Partial<Bot> = {}
): Promise<Bot & { id: string }> {
  const bot = await srv.create<Bot>({
    resourceType: 'Bot',
    name: 'test bot',
    ...(scopes ? { extension: [{ url: BOT_ACCESS_URL, valueString: scopes }] } : {}),
    ...extra,
  });
  const deployed = await srv.post<Bot>(`Bot/${bot.id}/$deploy`, {
    resourceType: 'Parameters',
    parameter: [{ name: 'code', valueString: code }],
  });
  expect(deployed.status).toBe(200);
  return { ...bot, ...deployed.body, id: bot.id };
}

/** Polls until `check` returns a value (a delivery is asynchronous), for at most `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out waiting');
}
