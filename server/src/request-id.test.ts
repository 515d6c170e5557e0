import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { registration } from './auth/accounts/test-support';
import { sql } from './db/sql';
import type { TestServer } from './test/test-server';
import { startTestServer } from './test/test-server';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Every JSON line the server logs, kept for the assertions. */
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  },
});

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ LOG_LEVEL: 'info' }, sink);
});
afterAll(async () => {
  await s.stop();
});

const serverUrl = (): string => s.hale.url;

describe('X-Request-Id', () => {
  test.each([
    ['a FHIR read', 'GET', '/fhir/R4/Patient/nobody', undefined, 404],
    ['the CapabilityStatement', 'GET', '/fhir/R4/metadata', undefined, 200],
    ['an unknown path', 'GET', '/nothing-here', undefined, 404],
    ['a probe', 'GET', '/livez', undefined, 200],
    ['an unsupported Content-Type', 'POST', '/fhir/R4/Patient', 'name=x', 415],
  ])('every answer carries a generated one: %s', async (_name, method, path, body, status) => {
    const res = await fetch(`${serverUrl()}${path}`, {
      method,
      body,
      headers: { authorization: `Bearer ${s.systemToken}`, 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(status);
    expect(res.headers.get('x-request-id')).toMatch(UUID);
  });

  test('a refused token still gets one', async () => {
    const res = await fetch(`${serverUrl()}/fhir/R4/Patient`, { headers: { authorization: 'Bearer nonsense' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toMatch(UUID);
  });

  test("a sane incoming id is answered with, and names the request's AuditEvent", async () => {
    const reqId = `client-${randomUUID()}`;
    const res = await s.get('Patient?_count=1', { 'x-request-id': reqId });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(reqId);
    const rows = await s.hale.db.query<{ content: string }>(
      sql`SELECT content FROM resource WHERE type = 'AuditEvent' AND content LIKE ${`%${reqId}%`}`
    );
    expect(rows).toHaveLength(1);
    const event = JSON.parse(rows[0]?.content ?? '{}') as { entity?: { what?: { identifier?: { value?: string } } }[] };
    expect(event.entity?.map((e) => e.what?.identifier?.value)).toContain(reqId);
  });

  test.each([
    ['too long', 'x'.repeat(65)],
    ['with spaces', 'a b'],
    ['with a log-forging newline escape', 'abc\\n{"level":60}'],
    ['with quotes', '"><script>'],
  ])('an incoming id %s is replaced by a generated one', async (_name, incoming) => {
    const res = await s.get('Patient?_count=1', { 'x-request-id': incoming });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(UUID);
  });

  test('log lines written while a request is served name it, not another request', async () => {
    const reqId = `signup-${randomUUID()}`;
    const other = `other-${randomUUID()}`;
    const [res] = await Promise.all([
      fetch(`${serverUrl()}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': reqId },
        body: JSON.stringify(registration(`${reqId}@example.org`)),
      }),
      s.get('Patient?_count=1', { 'x-request-id': other }),
    ]);
    expect(res?.status).toBe(202);
    // The verification mail, logged by the notifier (no SMTP in tests), far from express.
    const mail = lines.filter((l) => l.msg === 'mail not delivered (SMTP_URL is not set); body withheld from the log');
    expect(mail.filter((l) => l.reqId === reqId)).toHaveLength(1);
    expect(mail.filter((l) => l.reqId === other)).toHaveLength(0);
    const requestLines = lines.filter((l) => l.msg === 'request' && (l.reqId === reqId || l.reqId === other));
    expect(requestLines.map((l) => [l.reqId, l.path])).toEqual(
      expect.arrayContaining([
        [reqId, '/auth/register'],
        [other, '/fhir/R4/Patient'],
      ])
    );
  });
});
