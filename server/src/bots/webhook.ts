import { createHmac } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { egressFetch } from './sandbox/egress';
import type { Channel } from './subscription-model';

const TIMEOUT_MS = 10_000;
/** Hale does not read what a webhook answers beyond its status. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * A rest-hook delivery to an https endpoint, as Medplum sends it: the resource as FHIR JSON, and
 * `X-Signature` (hex HMAC-SHA256 of the body with the Subscription's secret) when it has one. It
 * goes out through the bots' egress path: https only, every address of the host public, the
 * connection pinned to the addresses checked (no DNS rebinding), redirects not followed. A non-2xx
 * answer, a refused address or a timeout throws, so the job is retried with backoff.
 */
export async function postWebhook(
  channel: Extract<Channel, { kind: 'url' }>,
  resource: Resource,
  headers: Record<string, string>
): Promise<void> {
  const url = new URL(channel.endpoint);
  const body = JSON.stringify(resource);
  const sent: [string, string][] = [['Content-Type', 'application/fhir+json'], ...Object.entries(headers)];
  if (channel.secret) {
    sent.push(['X-Signature', createHmac('sha256', channel.secret).update(body).digest('hex')]);
  }
  const res = await egressFetch(
    { url: url.href, method: 'POST', headers: sent, body, redirect: 'manual' },
    {
      allowHosts: new Set([url.hostname.toLowerCase()]),
      maxBodyBytes: MAX_ANSWER_BYTES,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }
  );
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`webhook ${url.host} answered ${res.status}`);
  }
}
