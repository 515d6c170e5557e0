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
 * body limit (Apple Health's pass 1 GB) and reads them as they arrive (server/src/devices/); uploads
 * (`DocumentReference/$upload`, and `POST Binary` with the file's own Content-Type, as on Medplum) go to the blob
 * store as they arrive (server/src/uploads/). A Binary POSTed as FHIR JSON is an ordinary create.
 */
const STREAMED_PATHS = [/^\/fhir\/R4\/Patient\/[^/]+\/\$import-device$/, /^\/fhir\/R4\/DocumentReference\/\$upload$/];
const FHIR_JSON_TYPES = new Set(['application/fhir+json', 'application/json', 'application/json+fhir']);

export function isStreamedRequest(req: Request): boolean {
  if (req.method !== 'POST') {
    return false;
  }
  if (req.path === '/fhir/R4/Binary') {
    return !FHIR_JSON_TYPES.has(mediaType(req));
  }
  return STREAMED_PATHS.some((p) => p.test(req.path));
}

function mediaType(req: Request): string {
  return (req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function streamedBody(req: Request): StreamedBody {
  const declared = req.header('content-length');
  return {
    [STREAMED]: true,
    stream: req,
    contentType: mediaType(req),
    declaredLength: declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined,
  };
}

export function streamedBodyOf(body: unknown): StreamedBody | undefined {
  return typeof body === 'object' && body !== null && STREAMED in body ? (body as StreamedBody) : undefined;
}
