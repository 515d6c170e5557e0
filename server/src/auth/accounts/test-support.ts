import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../../config';
import { createLogger } from '../../logger';
import { systemAccess } from '../../storage/access';
import { HaleRepository } from '../../storage/repository';
import { SearchParamRegistry } from '../../storage/search-params';
import type { TestServer } from '../../test/test-server';
import { startTestServer } from '../../test/test-server';
import type { AuthDeps } from '../deps';
import { RateLimits } from '../rate-limit';

/** A mail as the SMTP server received it, reduced to what tests read. */
export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailCatcher {
  url: string;
  mails: ReceivedMail[];
  /** Resolves with the n-th mail (1-based) to `to` once it arrived. */
  waitFor(to: string, n?: number, timeoutMs?: number): Promise<ReceivedMail>;
  /** Mails to `to` received so far. */
  to(address: string): ReceivedMail[];
  stop(): Promise<void>;
}

function decodeQuotedPrintable(s: string): string {
  const bytes = s
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** The decoded body of the first MIME part of `type` (nodemailer's multipart/alternative). */
function part(raw: string, type: string): string {
  const at = raw.toLowerCase().indexOf(`content-type: ${type}`);
  if (at < 0) {
    return '';
  }
  const rest = raw.slice(at);
  const headerEnd = rest.search(/\r?\n\r?\n/);
  const headers = rest.slice(0, headerEnd).toLowerCase();
  const body = rest.slice(headerEnd).replace(/^\r?\n\r?\n/, '');
  const content = body.split(/\r?\n--/)[0] ?? '';
  if (headers.includes('quoted-printable')) {
    return decodeQuotedPrintable(content);
  }
  if (headers.includes('base64')) {
    return Buffer.from(content.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return content;
}

function header(raw: string, name: string): string {
  const m = new RegExp(`^${name}: (.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(raw);
  return (m?.[1] ?? '').replace(/\r?\n[ \t]/g, ' ').trim();
}

/** A real SMTP server (the smtp-server package) on a random local port, keeping every mail. */
export async function startMailCatcher(): Promise<MailCatcher> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        for (const rcpt of session.envelope.rcptTo) {
          mails.push({
            to: rcpt.address.toLowerCase(),
            subject: header(raw, 'Subject'),
            text: part(raw, 'text/plain'),
            html: part(raw, 'text/html'),
          });
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const to = (address: string): ReceivedMail[] => mails.filter((m) => m.to === address.toLowerCase());
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    to,
    async waitFor(address, n = 1, timeoutMs = 10000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const got = to(address)[n - 1];
        if (got) {
          return got;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`no mail #${n} to ${address} within ${timeoutMs} ms`);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first link in a mail's text that starts with `prefix`. */
export function linkIn(mail: ReceivedMail, prefix: string): string {
  const link = mail.text.split(/\s+/).find((w) => w.startsWith(prefix));
  if (!link) {
    throw new Error(`no ${prefix} link in mail "${mail.subject}"`);
  }
  return link;
}

export function tokenOf(link: string): string {
  return new URL(link).searchParams.get('token') ?? '';
}

/** AuthDeps on the test server's database, as the running server builds them (own limiter and mailer). */
export async function authDepsFor(s: TestServer, env: Record<string, string> = {}): Promise<AuthDeps> {
  const config = loadConfig({ NODE_ENV: 'test', BASE_URL: s.hale.url, ...env });
  const searchParams = await SearchParamRegistry.load(s.hale.db);
  return {
    config,
    db: s.hale.db,
    logger: createLogger('silent'),
    redis: undefined,
    rateLimits: new RateLimits(undefined, config.authRateLimitPerMinute),
    systemRepository: () =>
      new HaleRepository({
        db: s.hale.db,
        access: systemAccess,
        searchParams,
        baseUrl: config.fhirBaseUrl,
        validate: true,
      }),
  };
}

export interface AccountsHarness {
  s: TestServer;
  mail: MailCatcher;
  deps: AuthDeps;
  /** POST JSON to a path under the server root, e.g. '/auth/register'. */
  post(path: string, body: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/** A mail catcher and a Hale mailing through it; `env` goes to both the server and `deps`. */
export async function startAccountsHarness(env: Record<string, string> = {}): Promise<AccountsHarness> {
  const mail = await startMailCatcher();
  const full = { SMTP_URL: mail.url, ...env };
  const s = await startTestServer(full);
  const deps = await authDepsFor(s, full);
  return {
    s,
    mail,
    deps,
    post: (path, body) => s.request('POST', `${s.hale.url}${path}`, body, { 'content-type': 'application/json' }),
    async stop() {
      await s.stop();
      await mail.stop();
    },
  };
}

export const STRONG_PASSWORD = 'violet kettle harbour 42 tides';

let counter = 0;
/** A fresh address per test (tests share one database per file). */
export function uniqueEmail(prefix = 'person'): string {
  counter += 1;
  return `${prefix}.${Date.now().toString(36)}${counter}@example.org`;
}

export function registration(email: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: { given: ['Aroha'], family: 'Ngata' },
    email,
    phone: '+64211234567',
    birthDate: '1988-04-12',
    password: STRONG_PASSWORD,
    ...extra,
  };
}

/** Registers a patient through the API and confirms the address with the mailed link (JSON API). */
export async function registerVerified(h: AccountsHarness, email: string, extra: Record<string, unknown> = {}) {
  const res = await h.post('/auth/register', registration(email, extra));
  if (res.status !== 202) {
    throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const mail = await h.mail.waitFor(email);
  const token = tokenOf(linkIn(mail, `${h.s.hale.url}/auth/verify-email`));
  const verified = await h.post('/auth/verify-email', { token });
  if (verified.status !== 200) {
    throw new Error(`verify failed: ${verified.status} ${JSON.stringify(verified.body)}`);
  }
}
