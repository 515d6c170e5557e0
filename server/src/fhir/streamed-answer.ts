import type { Binary } from '@medplum/fhirtypes';
import type { Response } from 'express';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';

const STREAMED = Symbol('hale.streamed-answer');

interface Streamed {
  [STREAMED]: { stream: Readable; size: number; contentType: string; filename: string };
}

/**
 * A Binary's content as the answer (GET Binary/[id] asking for no FHIR format), carried through the router as the
 * Binary itself: the audit sees whose record it is (securityContext), and http.ts streams the bytes from the blob
 * store instead of sending JSON.
 */
export function streamedAnswer(binary: Binary, content: { stream: Readable; size: number }): Binary {
  const contentType = binary.contentType || 'application/octet-stream';
  const ext = /^[a-z]+\/([a-z0-9]+)/.exec(contentType)?.[1] ?? 'bin';
  const value: Binary & Streamed = Object.assign(
    { ...binary },
    { [STREAMED]: { ...content, contentType, filename: `${binary.id ?? 'file'}.${ext}` } }
  );
  return value;
}

/** Sends a streamed answer when `resource` is one (true), else leaves the response alone (false). */
export function sendStreamedAnswer(res: Response, status: number, resource: unknown): boolean {
  const answer = (resource as Partial<Streamed> | undefined)?.[STREAMED];
  if (!answer) {
    return false;
  }
  // The stored type, never sniffed by the browser, never shown inline: an upload cannot run as a page of ours.
  res.status(status).set({
    'Content-Type': answer.contentType,
    'Content-Length': String(answer.size),
    'Content-Disposition': `attachment; filename="${answer.filename}"`,
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Cache-Control': 'no-store',
  });
  // A read error mid-file, or a client gone away, ends both sides (the length tells the client it was cut short).
  pipeline(answer.stream, res, () => undefined);
  return true;
}

/** Releases a streamed answer that will not be sent (the audit failed): its file stays open otherwise. */
export function discardStreamedAnswer(resource: unknown): void {
  (resource as Partial<Streamed> | undefined)?.[STREAMED]?.stream.destroy();
}
