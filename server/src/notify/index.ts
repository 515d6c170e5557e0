export { OutgoingMail, SmtpMailer, LogMailer, UnavailableMailer, createMailer } from './mail';
export type { Mailer } from './mail';
export { TwilioSmsSender, FileSmsSink, LogSmsSink, UnavailableSmsSender, createSmsSender } from './sms';
export type { SmsSender, TwilioSettings } from './sms';
export { Notifier, notifierFor } from './notifier';
export * from './templates';
