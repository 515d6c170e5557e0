/**
 * PHI-safe message templates. An email or SMS leaves Hale's control (mail servers, lock screens, shared phones), so
 * it says only THAT there is something, by category, and links to the portal where the person signs in to see
 * what. The render functions take the category and the link, never the Communication: what a Communication's
 * payload holds cannot reach a message.
 */
import type { NotificationCategory } from './vocabulary';

export interface RenderedMessage {
  readonly subject: string;
  /** Email body (plain text). */
  readonly text: string;
  /** SMS body. */
  readonly sms: string;
}

interface Template {
  readonly subject: string;
  /** What there is, in one sentence; the link follows. */
  readonly body: string;
}

const EN: Record<NotificationCategory | 'default', Template> = {
  'care-alert': {
    subject: 'Something new from your care team',
    body: 'There is something new for you from your care team in Hale. Sign in to see it:',
  },
  'care-content': {
    subject: 'New information for you',
    body: 'Your care team has shared something for you to read in Hale. Sign in to see it:',
  },
  'appointment-reminder': {
    subject: 'Appointment reminder',
    body: 'You have an appointment coming up. Sign in to Hale for the details:',
  },
  'weekly-summary': {
    subject: 'Your weekly summary is ready',
    body: 'Your weekly summary is ready in Hale. Sign in to see it:',
  },
  'data-sharing-request': {
    subject: 'New data-sharing request',
    body: 'Someone has asked you for access to some of your information. Sign in to Hale to answer:',
  },
  'access-ended': {
    subject: 'A sharing arrangement has ended',
    body: 'A sharing permission, relationship or request on your Hale account has ended. Sign in to see which:',
  },
  'slot-hold-expired': {
    subject: 'Your held appointment time was released',
    body: 'An appointment time held for you was released because it was not confirmed in time. Sign in to Hale to book again:',
  },
  'message-received': {
    subject: 'You have a new message',
    body: 'You have a new secure message in Hale. Sign in to read it:',
  },
  'slot-offered': {
    subject: 'An appointment time is available',
    body: 'An appointment time you may want is available. Sign in to Hale to see it and book:',
  },
  'visit-request': {
    subject: 'New visit request',
    body: 'There is a new visit request for you in Hale. Sign in to see it:',
  },
  'visit-request-answered': {
    subject: 'Your visit request was answered',
    body: 'Your visit request has an answer. Sign in to Hale to see it:',
  },
  'intake-assigned': {
    subject: 'A form to fill in',
    body: 'You have a form to fill in before your visit. Sign in to Hale to open it:',
  },
  'intake-completed': {
    subject: 'A form was handed in',
    body: 'A form you asked for has been handed in. Sign in to Hale to see it:',
  },
  default: {
    subject: 'You have a new message',
    body: 'You have a new message in Hale. Sign in to read it:',
  },
};

/** Templates by language; only English so far, and every other language falls back to it. */
const TEMPLATES: Record<string, Record<NotificationCategory | 'default', Template>> = { en: EN };

function templateFor(category: NotificationCategory | undefined, language: string | undefined): Template {
  const byCategory = TEMPLATES[(language ?? 'en').toLowerCase().split('-')[0] ?? 'en'] ?? EN;
  return byCategory[category ?? 'default'] ?? EN.default;
}

/** The portal page of a notification; the portal shows what it is about once the person has signed in. */
export function notificationLink(portalUrl: string, communicationId: string): string {
  return `${portalUrl.replace(/\/+$/, '')}/notifications/${encodeURIComponent(communicationId)}`;
}

export function renderNotification(
  category: NotificationCategory | undefined,
  link: string,
  settingsUrl: string,
  language?: string
): RenderedMessage {
  const t = templateFor(category, language);
  const text = [
    t.body,
    link,
    '',
    `You get this because you have a Hale account. To choose which messages you get and how, go to ${settingsUrl}`,
  ].join('\n');
  return { subject: `Hale: ${t.subject}`, text, sms: `Hale: ${t.body} ${link} Reply STOP to opt out.` };
}
