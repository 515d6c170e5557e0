/**
 * Reading and changing a person's communication preferences: one Basic per person (profile
 * hale-communication-preferences, code basic-code#communication-preferences, subject the person). The pure
 * functions take and return the resource, so the server (e.g. the inbound-SMS STOP/START webhook) can use them
 * with its own repository; the async ones do the same through a MedplumClient. No Node built-ins.
 */
import type { MedplumClient } from '@medplum/core';
import type { Basic, Extension, Reference } from '@medplum/fhirtypes';
import type { Channel, NotificationCategory } from './vocabulary';
import { CHANNELS, COMMUNICATION_PREFERENCES, EXT, PREFERENCES_PROFILE, SYSTEM } from './vocabulary';

export interface QuietHours {
  /** Local start, `HH:MM:SS` (withQuietHours also takes `HH:MM`). */
  readonly start: string;
  /** Local end; before start means the quiet hours run overnight. */
  readonly end: string;
  /** IANA time zone, e.g. `Pacific/Auckland`. */
  readonly timeZone: string;
}

export interface CommunicationPreferences {
  /** Channels to notify on, in the person's order; empty: email if they have an address, else sms. */
  readonly preferredChannels: readonly Channel[];
  /** Channels the person opted out of, with when. */
  readonly optOuts: readonly { readonly channel: Channel; readonly date: string }[];
  readonly quietHours?: QuietHours;
  /** Categories turned on (true) or off (false); a category not listed is on. */
  readonly categories: Readonly<Partial<Record<NotificationCategory, boolean>>>;
  /** BCP-47 language tag. */
  readonly language?: string;
}

export const NO_PREFERENCES: CommunicationPreferences = { preferredChannels: [], optOuts: [], categories: {} };

const isChannel = (value: unknown): value is Channel => (CHANNELS as readonly unknown[]).includes(value);

const part = (ext: Extension, url: string): Extension | undefined => ext.extension?.find((e) => e.url === url);

/** The preferences a Basic carries (anything malformed is ignored), or none. */
export function parsePreferences(basic: Basic | undefined): CommunicationPreferences {
  const extensions = basic?.extension ?? [];
  const byUrl = (url: string): Extension[] => extensions.filter((e) => e.url === url);
  const quiet = byUrl(EXT.quietHours)[0];
  const quietHours = quiet && parseQuietHours(quiet);
  const categories: Partial<Record<NotificationCategory, boolean>> = {};
  for (const ext of byUrl(EXT.categoryPreference)) {
    const category = part(ext, 'category')?.valueCode;
    const enabled = part(ext, 'enabled')?.valueBoolean;
    if (category && enabled !== undefined) {
      categories[category as NotificationCategory] = enabled;
    }
  }
  const optOuts = byUrl(EXT.channelOptOut).flatMap((ext) => {
    const channel = part(ext, 'channel')?.valueCode;
    return isChannel(channel) ? [{ channel, date: part(ext, 'date')?.valueDateTime ?? '' }] : [];
  });
  return {
    preferredChannels: byUrl(EXT.preferredChannel)
      .map((e) => e.valueCode)
      .filter(isChannel),
    optOuts,
    ...(quietHours ? { quietHours } : {}),
    categories,
    ...(byUrl(EXT.language)[0]?.valueCode ? { language: byUrl(EXT.language)[0]?.valueCode } : {}),
  };
}

function parseQuietHours(ext: Extension): QuietHours | undefined {
  const start = part(ext, 'start')?.valueTime;
  const end = part(ext, 'end')?.valueTime;
  const timeZone = part(ext, 'timeZone')?.valueCode;
  return start && end && timeZone ? { start, end, timeZone } : undefined;
}

export function isOptedOut(prefs: CommunicationPreferences, channel: Channel): boolean {
  return prefs.optOuts.some((o) => o.channel === channel);
}

export function categoryEnabled(prefs: CommunicationPreferences, category: NotificationCategory): boolean {
  return prefs.categories[category] !== false;
}

/** An empty preferences resource for this person. */
export function newPreferences(subject: Reference): Basic {
  return {
    resourceType: 'Basic',
    meta: { profile: [PREFERENCES_PROFILE] },
    code: { coding: [{ system: SYSTEM.basicCode, code: COMMUNICATION_PREFERENCES }] },
    subject: { reference: subject.reference },
  };
}

/** The search for a person's preferences (`Basic?…`). */
export function preferencesQuery(subject: string): string {
  return `code=${encodeURIComponent(`${SYSTEM.basicCode}|${COMMUNICATION_PREFERENCES}`)}&subject=${encodeURIComponent(subject)}`;
}

function replacing(basic: Basic, url: string, keep: (e: Extension) => boolean, added: Extension[]): Basic {
  const others = (basic.extension ?? []).filter((e) => e.url !== url || keep(e));
  const extension = [...others, ...added];
  const { extension: _old, ...rest } = basic;
  return extension.length > 0 ? { ...rest, extension } : rest;
}

const optOutOf = (e: Extension): string | undefined => part(e, 'channel')?.valueCode;

/** Opted out of the channel as of `date` (an existing opt-out keeps its first date). */
export function withOptOut(basic: Basic, channel: Channel, date: string): Basic {
  if ((basic.extension ?? []).some((e) => e.url === EXT.channelOptOut && optOutOf(e) === channel)) {
    return basic;
  }
  const ext: Extension = {
    url: EXT.channelOptOut,
    extension: [
      { url: 'channel', valueCode: channel },
      { url: 'date', valueDateTime: date },
    ],
  };
  return replacing(basic, EXT.channelOptOut, () => true, [ext]);
}

/** Opted in again: the channel's opt-out is removed. */
export function withOptIn(basic: Basic, channel: Channel): Basic {
  return replacing(basic, EXT.channelOptOut, (e) => optOutOf(e) !== channel, []);
}

export function withPreferredChannels(basic: Basic, channels: readonly Channel[]): Basic {
  const added = channels.map((c) => ({ url: EXT.preferredChannel, valueCode: c }));
  return replacing(basic, EXT.preferredChannel, () => false, added);
}

/** FHIR time is `HH:MM:SS`; `HH:MM` is accepted and completed. */
const fhirTime = (time: string): string => (/^\d{2}:\d{2}$/.test(time) ? `${time}:00` : time);

/** Sets (or, with undefined, clears) the quiet hours. */
export function withQuietHours(basic: Basic, quiet: QuietHours | undefined): Basic {
  const added: Extension[] = quiet
    ? [
        {
          url: EXT.quietHours,
          extension: [
            { url: 'start', valueTime: fhirTime(quiet.start) },
            { url: 'end', valueTime: fhirTime(quiet.end) },
            { url: 'timeZone', valueCode: quiet.timeZone },
          ],
        },
      ]
    : [];
  return replacing(basic, EXT.quietHours, () => false, added);
}

export function withCategory(basic: Basic, category: NotificationCategory, enabled: boolean): Basic {
  const ext: Extension = {
    url: EXT.categoryPreference,
    extension: [
      { url: 'category', valueCode: category },
      { url: 'enabled', valueBoolean: enabled },
    ],
  };
  return replacing(basic, EXT.categoryPreference, (e) => part(e, 'category')?.valueCode !== category, [ext]);
}

export function withLanguage(basic: Basic, language: string | undefined): Basic {
  return replacing(basic, EXT.language, () => false, language ? [{ url: EXT.language, valueCode: language }] : []);
}

/** The person's preferences resource, if they have one (the first, should there be several). */
export async function readPreferences(medplum: MedplumClient, subject: string): Promise<Basic | undefined> {
  return (await medplum.searchOne('Basic', preferencesQuery(subject))) ?? undefined;
}

/**
 * Applies `change` to the person's preferences, creating the resource when they have none, and stores the result.
 * A change that changes nothing writes nothing (so START from someone with no preferences creates none).
 */
export async function updatePreferences(
  medplum: MedplumClient,
  subject: string,
  change: (basic: Basic) => Basic
): Promise<Basic> {
  const current = await readPreferences(medplum, subject);
  const before = current ?? newPreferences({ reference: subject });
  const changed = change(before);
  if (JSON.stringify(changed) === JSON.stringify(before)) {
    return before;
  }
  return current
    ? medplum.updateResource(changed)
    : medplum.createResourceIfNoneExist(changed, preferencesQuery(subject));
}

/** STOP: no more messages on the channel. */
export function optOutChannel(medplum: MedplumClient, subject: string, channel: Channel, now: Date): Promise<Basic> {
  return updatePreferences(medplum, subject, (b) => withOptOut(b, channel, now.toISOString()));
}

/** START: messages on the channel again. */
export function optInChannel(medplum: MedplumClient, subject: string, channel: Channel): Promise<Basic> {
  return updatePreferences(medplum, subject, (b) => withOptIn(b, channel));
}
