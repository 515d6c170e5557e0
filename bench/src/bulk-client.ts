/**
 * The bench's Bulk Data client: kick-off, polling until done, and downloads, over HTTP as any
 * client would (Prefer: respond-async, Content-Location, Retry-After).
 */

export interface BulkManifest {
  transactionTime: string;
  output: { type?: string; url: string; count?: number }[];
  error: { type?: string; url: string }[];
}

export interface BulkTarget {
  readonly fhirBase: string;
  readonly token: string;
}

const POLL_FLOOR_MS = 200;
/**
 * The export timings poll every 50 ms, Hale started with BULK_MIN_POLL_MS=0: an export of the
 * bench's data takes ~2 s, and with Hale's default (a poll a second at most) the poll interval
 * would be a large part of what is measured.
 */
export const EXPORT_POLL_MS = 50;

async function kickOff(target: BulkTarget, url: string, init: { method: string; body?: string; type?: string }) {
  const res = await fetch(url, {
    method: init.method,
    headers: {
      authorization: `Bearer ${target.token}`,
      accept: 'application/fhir+json',
      prefer: 'respond-async',
      ...(init.type ? { 'content-type': init.type } : {}),
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const location = res.headers.get('content-location');
  if (res.status !== 202 || !location) {
    throw new Error(`${init.method} ${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  }
  await res.arrayBuffer();
  return location;
}

export const kickExport = (target: BulkTarget, path: string): Promise<string> =>
  kickOff(target, `${target.fhirBase}/${path}`, { method: 'GET' });

export const kickImport = (target: BulkTarget, ndjson: string): Promise<string> =>
  kickOff(target, `${target.fhirBase}/$import`, { method: 'POST', body: ndjson, type: 'application/fhir+ndjson' });

/** Polls the status URL until it answers 200, honouring Retry-After (capped at `maxWaitMs` a poll, at least `floorMs`). */
export async function untilDone(
  target: BulkTarget,
  statusUrl: string,
  maxWaitMs = 500,
  floorMs = POLL_FLOOR_MS
): Promise<BulkManifest> {
  for (;;) {
    const res = await fetch(statusUrl, { headers: { authorization: `Bearer ${target.token}` } });
    if (res.status === 200) {
      return (await res.json()) as BulkManifest;
    }
    const body = await res.text();
    if (res.status !== 202 && res.status !== 429) {
      throw new Error(`${statusUrl} answered ${res.status}: ${body.slice(0, 300)}`);
    }
    const after = Number(res.headers.get('retry-after') ?? 1) * 1000;
    await new Promise((r) => setTimeout(r, Math.max(floorMs, Math.min(after, maxWaitMs))));
  }
}

/** Downloads every output file, counting lines and bytes without keeping them. */
export async function download(target: BulkTarget, manifest: BulkManifest): Promise<{ lines: number; bytes: number }> {
  let lines = 0;
  let bytes = 0;
  for (const file of manifest.output) {
    const res = await fetch(file.url, { headers: { authorization: `Bearer ${target.token}` } });
    if (res.status !== 200 || !res.body) {
      throw new Error(`${file.url} answered ${res.status}`);
    }
    for await (const chunk of res.body) {
      const buf = chunk as Uint8Array;
      bytes += buf.length;
      for (const b of buf) {
        if (b === 10) {
          lines++;
        }
      }
    }
  }
  return { lines, bytes };
}

export async function deleteJob(target: BulkTarget, statusUrl: string): Promise<void> {
  const res = await fetch(statusUrl, { method: 'DELETE', headers: { authorization: `Bearer ${target.token}` } });
  await res.arrayBuffer();
}
