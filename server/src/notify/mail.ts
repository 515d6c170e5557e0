import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { inspect } from 'node:util';
import type { HaleConfig } from '../config';
import type { Logger } from '../logger';

/**
 * A rendered email. Its body carries single-use links and codes, so it is held in private
 * fields that only a transport reads (`bodyForTransport`): logging or serialising the object
 * (pino calls toJSON, console/util.inspect the custom inspector) shows the envelope only.
 * Subjects are part of the envelope and must never contain a secret.
 */
export class OutgoingMail {
  readonly #text: string;
  readonly #html: string;

  /** `to` may list several addresses, comma-separated; `copies` are the Cc and Bcc (bots' mail only). */
  constructor(
    readonly to: string,
    readonly template: string,
    readonly subject: string,
    text: string,
    html: string,
    readonly copies: { readonly cc?: readonly string[]; readonly bcc?: readonly string[] } = {}
  ) {
    this.#text = text;
    this.#html = html;
  }

  bodyForTransport(): { text: string; html: string } {
    return { text: this.#text, html: this.#html };
  }

  toJSON(): { to: string; template: string; subject: string } {
    return { to: this.to, template: this.template, subject: this.subject };
  }

  [inspect.custom](): string {
    return `OutgoingMail ${JSON.stringify(this.toJSON())}`;
  }
}

export interface Mailer {
  /** false when mail cannot be delivered at all (production without SMTP_URL). */
  readonly available: boolean;
  send(mail: OutgoingMail): Promise<void>;
}

/** Delivers through SMTP (nodemailer). */
export class SmtpMailer implements Mailer {
  readonly available = true;
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string
  ) {
    // nodemailer's own logger and debug output stay off: they would print the message.
    this.transport = nodemailer.createTransport(smtpUrl);
  }

  async send(mail: OutgoingMail): Promise<void> {
    const { text, html } = mail.bodyForTransport();
    const { cc, bcc } = mail.copies;
    await this.transport.sendMail({
      from: this.from,
      to: mail.to,
      ...(cc?.length ? { cc: [...cc] } : {}),
      ...(bcc?.length ? { bcc: [...bcc] } : {}),
      subject: mail.subject,
      // A bot may send only one of them; an empty part would show as a blank alternative.
      text: text || undefined,
      html: html || undefined,
    });
  }

  close(): void {
    this.transport.close();
  }
}

/**
 * Development and test without SMTP_URL: records that a mail would have gone out (recipient,
 * template, subject) and drops the body, so no link or code ever reaches a log. Run a local mail
 * catcher and set SMTP_URL to read the mails themselves.
 */
export class LogMailer implements Mailer {
  readonly available = true;

  constructor(private readonly logger: Logger) {}

  async send(mail: OutgoingMail): Promise<void> {
    this.logger.info({ mail: mail.toJSON() }, 'mail not delivered (SMTP_URL is not set); body withheld from the log');
  }
}

/** Production without SMTP_URL: the features that must mail refuse to run (503). */
export class UnavailableMailer implements Mailer {
  readonly available = false;

  async send(): Promise<void> {
    throw new Error('mail is not configured (SMTP_URL)');
  }
}

export function createMailer(config: HaleConfig, logger: Logger): Mailer {
  if (config.smtpUrl) {
    return new SmtpMailer(config.smtpUrl, config.mailFrom);
  }
  if (config.env === 'production') {
    logger.error(
      'SMTP_URL is not set in production: registration, email verification, password reset, ' +
        'sign-in codes by email and applications answer 503 until it is configured'
    );
    return new UnavailableMailer();
  }
  return new LogMailer(logger);
}
