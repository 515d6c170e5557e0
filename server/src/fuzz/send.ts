import { connect } from 'node:net';

export interface Answer {
  method?: string;
  status: number;
  contentType: string;
  body: string;
}

/** What every answer to hostile input must be: below 500, and any refusal a FHIR OperationOutcome. */
export function problemWith(answer: Answer): string | undefined {
  if (answer.status >= 500 || answer.status < 100) {
    return `status ${answer.status}: ${answer.body.slice(0, 500)}`;
  }
  if (answer.status < 400 || answer.method === 'HEAD') {
    return undefined; // an answer to HEAD has headers only
  }
  if (!answer.contentType.startsWith('application/fhir+json')) {
    return `status ${answer.status} with content-type '${answer.contentType}': ${answer.body.slice(0, 200)}`;
  }
  try {
    const outcome = JSON.parse(answer.body) as { resourceType?: string; issue?: unknown[] };
    if (outcome.resourceType !== 'OperationOutcome' || !Array.isArray(outcome.issue) || outcome.issue.length === 0) {
      return `status ${answer.status} without an OperationOutcome: ${answer.body.slice(0, 200)}`;
    }
  } catch {
    return `status ${answer.status} with a body that is not JSON: ${answer.body.slice(0, 200)}`;
  }
  return undefined;
}

/** Percent-encodes what must be, and turns what cannot be encoded (a lone surrogate) into invalid UTF-8 bytes. */
export function encodeLoosely(value: string): string {
  let out = '';
  for (const ch of value) {
    try {
      out += encodeURIComponent(ch);
    } catch {
      out += '%ED%A0%80';
    }
  }
  return out;
}

export async function send(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string | Buffer }
): Promise<Answer> {
  const res = await fetch(url, { ...init, redirect: 'manual' });
  return {
    method: init.method,
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    body: await res.text(),
  };
}

/**
 * Bytes as they are, over a socket of their own: requests no HTTP client library would send (bad request lines,
 * control bytes in headers, conflicting lengths). Resolves with the status and body once the server closes or
 * goes quiet after answering.
 */
export function sendRaw(host: string, port: number, bytes: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (): void => {
      if (done) {
        return;
      }
      done = true;
      socket.destroy();
      const answer = parseAnswer(Buffer.concat(chunks).toString('latin1'));
      if (answer) {
        resolve(answer);
      } else {
        reject(new Error(`no HTTP answer: ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200))}`));
      }
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // One answer is all these tests read: stop once it is complete (a kept-alive socket stays open).
      if (answerComplete(Buffer.concat(chunks).toString('latin1'))) {
        finish();
      }
    });
    socket.once('close', finish);
    socket.once('error', (err) => (chunks.length > 0 ? finish() : reject(err)));
    // Written, not ended: a half-closed socket may be closed before its answer is sent.
    socket.write(bytes);
  });
}

/** `100 Continue` and other interim answers come before the one that counts. */
const INTERIM = /^(HTTP\/1\.[01] 1\d\d[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n)+/;

function answerComplete(raw: string): boolean {
  const text = raw.replace(INTERIM, '');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    return false;
  }
  const head = text.slice(0, headEnd);
  const length = /^content-length: *(\d+)/im.exec(head)?.[1];
  if (length !== undefined) {
    return Buffer.byteLength(text.slice(headEnd + 4), 'latin1') >= Number(length);
  }
  return /^transfer-encoding: *chunked/im.test(head) && text.endsWith('0\r\n\r\n');
}

function parseAnswer(raw: string): Answer | undefined {
  const text = raw.replace(INTERIM, '');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (!m?.[1]) {
    return undefined;
  }
  const headEnd = text.indexOf('\r\n\r\n');
  const head = text.slice(0, headEnd < 0 ? text.length : headEnd);
  const contentType = /^content-type: *(.*)$/im.exec(head)?.[1]?.trim() ?? '';
  let body = headEnd < 0 ? '' : text.slice(headEnd + 4);
  const length = /^content-length: *(\d+)/im.exec(head)?.[1];
  if (length !== undefined) {
    body = body.slice(0, Number(length)); // latin-1: one character per byte
  } else if (/^transfer-encoding: *chunked/im.test(head)) {
    const end = body.indexOf('\r\n0\r\n\r\n');
    body = (end < 0 ? body : body.slice(0, end + 2)).replace(/(^|\r\n)[0-9a-f]+\r\n/gi, '');
  }
  return { status: Number(m[1]), contentType, body: Buffer.from(body, 'latin1').toString('utf8') };
}
