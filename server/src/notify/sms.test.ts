import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../config';
import { FileSmsSink, LogSmsSink, TwilioSmsSender, UnavailableSmsSender, createSmsSender } from './sms';

interface Seen {
  method: string;
  url: string;
  authorization: string;
  contentType: string;
  form: URLSearchParams;
}

/** A stand-in for the Twilio API: records requests and answers with `status`. */
async function fakeTwilio(status: number, body: unknown): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization ?? '',
        contentType: req.headers['content-type'] ?? '',
        form: new URLSearchParams(data),
      });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const settings = (apiUrl: string) => ({ accountSid: 'AC123', authToken: 'secret-token', from: '+15005550006', apiUrl });

describe('SMS', () => {
  test('the Twilio-compatible client posts To, From and Body with basic auth', async () => {
    const api = await fakeTwilio(201, { sid: 'SM1' });
    try {
      await new TwilioSmsSender(settings(api.url)).send('+64211234567', 'Your code is 123456');
      const [req] = api.seen;
      expect(req?.method).toBe('POST');
      expect(req?.url).toBe('/2010-04-01/Accounts/AC123/Messages.json');
      expect(req?.authorization).toBe(`Basic ${Buffer.from('AC123:secret-token').toString('base64')}`);
      expect(req?.contentType).toBe('application/x-www-form-urlencoded');
      expect(Object.fromEntries(req?.form ?? [])).toEqual({
        To: '+64211234567',
        From: '+15005550006',
        Body: 'Your code is 123456',
      });
    } finally {
      api.server.close();
    }
  });

  test('a provider error becomes an error naming status and code, not the message', async () => {
    const api = await fakeTwilio(400, { code: 21211, message: "The 'To' number +64211234567 is not valid" });
    try {
      await expect(new TwilioSmsSender(settings(api.url)).send('+64211234567', 'code 123456')).rejects.toThrow(
        'SMS provider answered 400 (code 21211)'
      );
    } finally {
      api.server.close();
    }
  });

  test('the file sink appends JSON lines a developer can read codes from', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hale-sms-')), 'out.jsonl');
    const sink = new FileSmsSink(file);
    await sink.send('+6421000001', 'code 111111');
    await sink.send('+6421000002', 'code 222222');
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines.map((l) => [l.to, l.body])).toEqual([
      ['+6421000001', 'code 111111'],
      ['+6421000002', 'code 222222'],
    ]);
  });

  test('which sender: provider when configured; no SMS in production otherwise; sink file or log in development', () => {
    const logger = pino({ level: 'silent' });
    const twilio = { TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't', TWILIO_FROM: '+15005550006' };
    expect(createSmsSender(loadConfig({ NODE_ENV: 'production', ...twilio }), logger)).toBeInstanceOf(TwilioSmsSender);
    expect(createSmsSender(loadConfig({ NODE_ENV: 'production', SMS_SINK_FILE: '/tmp/x' }), logger)).toBeInstanceOf(
      UnavailableSmsSender
    );
    expect(createSmsSender(loadConfig({ SMS_SINK_FILE: '/tmp/x' }), logger)).toBeInstanceOf(FileSmsSink);
    expect(createSmsSender(loadConfig({}), logger)).toBeInstanceOf(LogSmsSink);
  });
});
