import { badRequest } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { sendOutcome } from './fhir/http';

/**
 * Requests Node's HTTP parser refuses before express sees them (a bad request line, control bytes in a header,
 * conflicting lengths, a head over 16 KB) and `Expect` values other than 100-continue. Node answers those with a
 * bare status and no body; here they get an OperationOutcome like every other refusal (found by the fuzz suite).
 */
export function answerParseErrorsWithOutcomes(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const text =
      status === 431
        ? 'The request line and headers exceed 16 KB'
        : status === 408
          ? 'The request was not received in time'
          : `The request is not valid HTTP/1.1 (${err.code ?? 'parse error'})`;
    socket.end(rawAnswer(status, text));
  });
  server.on('checkExpectation', (_req, res) => {
    const body = JSON.stringify(outcome('Only "Expect: 100-continue" is supported'));
    res.writeHead(417, {
      'Content-Type': 'application/fhir+json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'X-Request-Id': randomUUID(),
    });
    res.end(body);
  });
}

/**
 * RFC 9112: a server must answer 400 to an HTTP/1.1 request without a Host header. Node's own check answers with
 * no body, so the server turns it off (`requireHostHeader: false`) and this middleware makes the same refusal.
 */
export function requireHostHeader(req: Request, res: Response, next: NextFunction): void {
  if (req.httpVersion === '1.1' && !req.headers.host) {
    res.setHeader('Connection', 'close');
    sendOutcome(res, 400, badRequest('An HTTP/1.1 request needs a Host header'));
    return;
  }
  next();
}

function outcome(text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'structure', details: { text } }] };
}

function rawAnswer(status: number, text: string): string {
  const body = JSON.stringify(outcome(text));
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Content-Type: application/fhir+json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Request-Id: ${randomUUID()}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}
