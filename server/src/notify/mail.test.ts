import pino from 'pino';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { loadConfig } from '../config';
import { LogMailer, SmtpMailer, UnavailableMailer, createMailer } from './mail';
import { Notifier } from './notifier';
import { LogSmsSink } from './sms';
import { loginCodeMail, verifyEmailMail } from './templates';

const SECRET = 'tok_e3b0c44298fc1c149afbf4c8996fb924';

function capturingLogger(): { logger: pino.Logger; lines: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => out };
}

describe('mail without secrets in logs', () => {
  test('a mail serialises and inspects as its envelope only', () => {
    const mail = verifyEmailMail('a@example.org', `https://hale.example/auth/verify-email?token=${SECRET}`, false);
    expect(JSON.stringify(mail)).not.toContain(SECRET);
    expect(inspect(mail)).not.toContain(SECRET);
    expect(JSON.stringify({ mail })).toContain('a@example.org');
    expect(mail.bodyForTransport().text).toContain(SECRET);
    expect(mail.bodyForTransport().html).toContain(SECRET);
  });

  test('the log sink records recipient, template and subject, never the body', async () => {
    const { logger, lines } = capturingLogger();
    await new LogMailer(logger).send(loginCodeMail('b@example.org', '493817'));
    logger.flush();
    expect(lines()).toContain('b@example.org');
    expect(lines()).toContain('Your Hale sign-in code');
    expect(lines()).not.toContain('493817');
  });

  test('a failed delivery is logged with its error code and without the body', async () => {
    const { logger, lines } = capturingLogger();
    // Nothing listens on port 9 of localhost: the connection is refused.
    const notifier = new Notifier(
      new SmtpMailer('smtp://127.0.0.1:9', 'Hale <x@hale.example>'),
      new LogSmsSink(logger),
      logger
    );
    notifier.mail(verifyEmailMail('c@example.org', `https://hale.example/v?token=${SECRET}`, false));
    await notifier.idle();
    logger.flush();
    expect(lines()).toContain('mail delivery failed');
    expect(lines()).toContain('c@example.org');
    expect(lines()).not.toContain(SECRET);
  });

  test('production without SMTP_URL has no mailer; development logs', () => {
    const { logger } = capturingLogger();
    expect(createMailer(loadConfig({ NODE_ENV: 'production' }), logger)).toBeInstanceOf(UnavailableMailer);
    expect(createMailer(loadConfig({ NODE_ENV: 'development' }), logger)).toBeInstanceOf(LogMailer);
    expect(
      createMailer(loadConfig({ NODE_ENV: 'production', SMTP_URL: 'smtp://mail.example:25' }), logger)
    ).toBeInstanceOf(SmtpMailer);
  });

  test('templates escape HTML and carry no secrets in the subject', () => {
    const mail = verifyEmailMail('d@example.org', `https://hale.example/v?token=${SECRET}&x=<b>`, true);
    expect(mail.subject).not.toContain(SECRET);
    expect(mail.bodyForTransport().html).toContain('&amp;x=&lt;b&gt;');
  });
});
