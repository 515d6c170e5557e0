import { appendFile } from 'node:fs/promises';
import type { HaleConfig } from '../config';
import type { Logger } from '../logger';

/** Sends text messages. `body` holds a one-time code: implementations must never log it. */
export interface SmsSender {
  /** false when SMS cannot be delivered at all (production without a provider). */
  readonly available: boolean;
  send(to: string, body: string): Promise<void>;
}

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  from: string;
  /** https://api.twilio.com, or any service speaking the same API. */
  apiUrl: string;
}

/** A Twilio-compatible client: POST {apiUrl}/2010-04-01/Accounts/{sid}/Messages.json, basic auth, form fields. */
export class TwilioSmsSender implements SmsSender {
  readonly available = true;

  constructor(
    private readonly settings: TwilioSettings,
    private readonly timeoutMs = 10000
  ) {}

  async send(to: string, body: string): Promise<void> {
    const { accountSid, authToken, from, apiUrl } = this.settings;
    const url = `${apiUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ To: to, From: from, Body: body }).toString(),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) {
      // The provider's error code is enough to diagnose; its message text may quote the request.
      const code = await res
        .json()
        .then((j: unknown) => (j as { code?: unknown }).code)
        .catch(() => undefined);
      const detail = typeof code === 'number' || typeof code === 'string' ? ` (code ${code})` : '';
      throw new Error(`SMS provider answered ${res.status}${detail}`);
    }
    await res.body?.cancel();
  }
}

/**
 * Development and test: appends each message as a JSON line to a file, code included — that
 * file is where a developer reads the codes. Never used in production.
 */
export class FileSmsSink implements SmsSender {
  readonly available = true;

  constructor(private readonly file: string) {}

  async send(to: string, body: string): Promise<void> {
    await appendFile(this.file, JSON.stringify({ at: new Date().toISOString(), to, body }) + '\n', { mode: 0o600 });
  }
}

/** Development without a sink file: records that an SMS would have gone out, without its body. */
export class LogSmsSink implements SmsSender {
  readonly available = true;

  constructor(private readonly logger: Logger) {}

  async send(to: string): Promise<void> {
    this.logger.info(
      { sms: { to } },
      'SMS not delivered (no SMS provider or SMS_SINK_FILE); body withheld from the log'
    );
  }
}

export class UnavailableSmsSender implements SmsSender {
  readonly available = false;

  async send(): Promise<void> {
    throw new Error('SMS is not configured (TWILIO_*)');
  }
}

export function createSmsSender(config: HaleConfig, logger: Logger): SmsSender {
  if (config.twilio) {
    return new TwilioSmsSender(config.twilio);
  }
  if (config.env === 'production') {
    logger.warn('TWILIO_* is not set in production: sign-in codes by SMS answer 503 (SMS_SINK_FILE is ignored)');
    return new UnavailableSmsSender();
  }
  return config.smsSinkFile ? new FileSmsSink(config.smsSinkFile) : new LogSmsSink(logger);
}
