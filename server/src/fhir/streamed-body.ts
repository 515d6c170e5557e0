import type { Request } from 'express';
import type { Readable } from 'node:stream';

const STREAMED = Symbol('hale.streamed-body');

/** What an operation that reads its body as a stream gets as FhirRequest.body instead of parsed JSON. */
export interface StreamedBody {
  [STREAMED]: true;
  stream: Readable;
  /** The media type, lower case, without parameters ('' when none was sent). */
  contentType: string;
  /** Content-Length, when the client declared one. */
  declaredLength: number | undefined;
}

/**
 * Requests whose body is not read into memory by express: `$import-device` takes export files larger than any
 * body limit (Apple Health's pass 1 GB) and reads them as they arrive (server/src/devices/).
 */
const STREAMED_PATHS = [/^\/fhir\/R4\/Patient\/[^/]+\/\$import-device$/];

export function isStreamedRequest(req: Request): boolean {
  return req.method === 'POST' && STREAMED_PATHS.some((p) => p.test(req.path));
}

export function streamedBody(req: Request): StreamedBody {
  const declared = req.header('content-length');
  return {
    [STREAMED]: true,
    stream: req,
    contentType: (req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '',
    declaredLength: declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined,
  };
}

export function streamedBodyOf(body: unknown): StreamedBody | undefined {
  return typeof body === 'object' && body !== null && STREAMED in body ? (body as StreamedBody) : undefined;
}
