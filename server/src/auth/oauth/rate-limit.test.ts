import type { TestServer } from '../../test/test-server';
import { startTestServer } from '../../test/test-server';
import { createClient, tokenRequest } from './test-support';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({ AUTH_RATE_LIMIT_PER_MINUTE: '1' });
});
afterAll(async () => {
  await s.stop();
});

test('the token endpoint answers 429 with an OAuth error once a client address exceeds its limit', async () => {
  const { client } = await createClient(s);
  const statuses: number[] = [];
  let last: Awaited<ReturnType<typeof tokenRequest>> | undefined;
  for (let i = 0; i < 6; i++) {
    last = await tokenRequest(s, { grant_type: 'refresh_token', refresh_token: 'x', client_id: client.client_id });
    statuses.push(last.status);
  }
  // Five a minute per address (5 × AUTH_RATE_LIMIT_PER_MINUTE) for the token endpoint.
  expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
  expect(last?.body).toMatchObject({ error: 'temporarily_unavailable' });
  expect(last?.headers.get('cache-control')).toBe('no-store');
});
