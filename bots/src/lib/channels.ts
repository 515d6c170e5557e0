import type { ContactPoint } from '@medplum/fhirtypes';
import { instantOf } from './fhir';
import type { CommunicationPreferences } from './preferences';
import { isOptedOut } from './preferences';
import type { Channel } from './vocabulary';
import { CHANNELS } from './vocabulary';

export interface ChannelChoice {
  /** Channels to send on, with the address to use. */
  readonly send: readonly { readonly channel: Channel; readonly address: string }[];
  /** Wanted channels the person opted out of. */
  readonly optedOut: readonly Channel[];
  /** Wanted channels the person has no address for. */
  readonly noAddress: readonly Channel[];
}

/** Telecom entries that are current (no past period end, not `old`), best rank first. */
function current(telecom: readonly ContactPoint[], now: Date): ContactPoint[] {
  return telecom
    .filter((t) => t.value && t.use !== 'old' && (instantOf(t.period?.end) ?? Number.POSITIVE_INFINITY) > now.getTime())
    .sort((a, b) => (a.rank ?? Number.MAX_SAFE_INTEGER) - (b.rank ?? Number.MAX_SAFE_INTEGER));
}

/** The address for a channel: an email ContactPoint, or for SMS an sms one or a mobile phone. */
export function addressFor(channel: Channel, telecom: readonly ContactPoint[], now: Date): string | undefined {
  const usable = current(telecom, now);
  if (channel === 'email') {
    return usable.find((t) => t.system === 'email')?.value;
  }
  return (usable.find((t) => t.system === 'sms') ?? usable.find((t) => t.system === 'phone' && t.use === 'mobile'))
    ?.value;
}

/**
 * Which channels to send on: every preferred channel that is not opted out and has an address; without preferred
 * channels, the first of email, sms that qualifies (so a person who opted out of email still gets SMS).
 */
export function chooseChannels(
  prefs: CommunicationPreferences,
  telecom: readonly ContactPoint[],
  now: Date
): ChannelChoice {
  const preferred = prefs.preferredChannels.length > 0;
  const wanted: readonly Channel[] = preferred ? prefs.preferredChannels : CHANNELS;
  const send: { channel: Channel; address: string }[] = [];
  const optedOut: Channel[] = [];
  const noAddress: Channel[] = [];
  for (const channel of wanted) {
    const address = addressFor(channel, telecom, now);
    if (isOptedOut(prefs, channel)) {
      optedOut.push(channel);
    } else if (!address) {
      noAddress.push(channel);
    } else if (preferred || send.length === 0) {
      send.push({ channel, address });
    }
  }
  return { send, optedOut, noAddress };
}
