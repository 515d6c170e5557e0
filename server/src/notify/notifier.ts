import type { HaleConfig } from '../config';
import type { Logger } from '../logger';
import type { Mailer, OutgoingMail } from './mail';
import { createMailer } from './mail';
import type { SmsSender } from './sms';
import { createSmsSender } from './sms';

/**
 * Sends account mail and SMS in the background. Requests that may or may not send something
 * (forgot-password, resend, sign-in codes) must take the same time whether or not the address
 * is registered, so they never wait for SMTP or the SMS provider; delivery failures are logged
 * (envelope and error code only, never the body) and the user can ask again.
 */
export class Notifier {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    readonly mailer: Mailer,
    readonly sms: SmsSender,
    private readonly logger: Logger
  ) {}

  get mailAvailable(): boolean {
    return this.mailer.available;
  }

  get smsAvailable(): boolean {
    return this.sms.available;
  }

  mail(mail: OutgoingMail): void {
    this.track(this.mailer.send(mail), { mail: mail.toJSON() }, 'mail delivery failed');
  }

  /** `body` contains a one-time code; only the recipient is logged. */
  text(to: string, body: string): void {
    this.track(this.sms.send(to, body), { sms: { to } }, 'SMS delivery failed');
  }

  /** Resolves once everything handed over so far was delivered or failed (tests, CLI, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private track(sending: Promise<void>, envelope: Record<string, unknown>, message: string): void {
    const p = sending.catch((err: unknown) => {
      const e = err as { code?: unknown; responseCode?: unknown };
      // Only the error's codes: SMTP and provider messages can quote what was sent.
      this.logger.error({ ...envelope, code: e.code, responseCode: e.responseCode }, message);
    });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}

const notifiers = new WeakMap<HaleConfig, Notifier>();

/** One Notifier per configuration (so one SMTP transport per server, shared by every caller). */
export function notifierFor(config: HaleConfig, logger: Logger): Notifier {
  let n = notifiers.get(config);
  if (!n) {
    n = new Notifier(createMailer(config, logger), createSmsSender(config, logger), logger);
    notifiers.set(config, n);
  }
  return n;
}
