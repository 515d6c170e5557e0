import { OperationOutcomeError, allOk, badRequest, conflict, notFound } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuditWriter } from '../audit/audit-writer';
import type { AuthDeps } from '../auth/deps';
import { parseScopes } from '../auth/oauth/scopes';
import type { AccessTokenClaims } from '../auth/types';
import { BAD_GATEWAY_ID, SERVICE_UNAVAILABLE_ID, forbiddenBecause } from '../fhir/errors';
import { sendOutcome } from '../fhir/http';
import { handleInboundSms } from './inbound-sms';
import { OutgoingMail } from './mail';
import { parseMailRequest } from './mail-request';
import { notifierFor } from './notifier';
import { toE164 } from './phone';
import { isSmsOptedOut } from './sms-opt-out';
import { validTwilioSignature } from './twilio-signature';

export interface BotMessagingDeps extends AuthDeps {
  audit: AuditWriter;
  /** The FHIR API's bearer-token check (401 without a valid token). */
  bearer: RequestHandler;
}

/** Twilio's limit for one message (it splits longer text into segments itself). */
export const MAX_SMS_CHARS = 1600;

/**
 * Messaging for bots, in Medplum's shape so a bot runs unchanged on either server:
 * `POST /email/v1/send` (medplum.sendEmail), `POST /sms/v1/send`, and Twilio's inbound-SMS webhook
 * `POST /webhooks/twilio/sms` (STOP/START/HELP). See docs/notifications.md.
 */
export function mountBotMessaging(app: express.Express, deps: BotMessagingDeps): void {
  const { config, logger } = deps;
  const notifier = notifierFor(config, logger);

  app.post(
    '/email/v1/send',
    deps.bearer,
    route(async (req, res) => {
      const claims = mayMessage(req.auth);
      const mail = parseMailRequest(req.body);
      if (!notifier.mailer.available) {
        throw unavailable('Email is not configured on this server (SMTP_URL)');
      }
      const outgoing = new OutgoingMail(mail.to.join(', '), 'bot', mail.subject, mail.text ?? '', mail.html ?? '', {
        cc: mail.cc,
        bcc: mail.bcc,
      });
      const recipients = mail.to.length + mail.cc.length + mail.bcc.length;
      try {
        await notifier.mailer.send(outgoing);
      } catch (err) {
        logger.error(
          { client: claims.client_id, fhirUser: claims.fhirUser, recipients, ...codes(err) },
          'bot mail failed'
        );
        throw badGateway('The mail server did not accept the mail');
      }
      logger.info({ client: claims.client_id, fhirUser: claims.fhirUser, recipients }, 'bot mail sent');
      sendOutcome(res, 200, allOk);
    })
  );

  app.post(
    '/sms/v1/send',
    deps.bearer,
    route(async (req, res) => {
      const claims = mayMessage(req.auth);
      const { to, body } = parseSmsRequest(req.body);
      // The opt-out table, not the caller, decides: a STOP holds from the next send on.
      if (await isSmsOptedOut(deps.db, to)) {
        throw new OperationOutcomeError(conflict('the recipient has opted out of SMS'));
      }
      if (!notifier.sms.available) {
        throw unavailable('SMS is not configured on this server (TWILIO_*)');
      }
      try {
        await notifier.sms.send(to, body);
      } catch (err) {
        logger.error({ client: claims.client_id, fhirUser: claims.fhirUser, ...codes(err) }, 'bot SMS failed');
        throw badGateway('The SMS provider did not accept the message');
      }
      logger.info({ client: claims.client_id, fhirUser: claims.fhirUser }, 'bot SMS sent');
      sendOutcome(res, 200, allOk);
    })
  );

  app.post(
    '/webhooks/twilio/sms',
    route(async (req, res) => {
      const token = config.twilioAuthToken;
      if (!token) {
        throw new OperationOutcomeError(notFound);
      }
      const params = req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
      // The URL Twilio was configured with: the public base URL and the path and query as received.
      const url = `${config.serverUrl}${req.originalUrl}`;
      if (!validTwilioSignature(token, req.header('x-twilio-signature'), url, params)) {
        throw forbiddenBecause('The X-Twilio-Signature header is missing or does not match this request');
      }
      const answer = await handleInboundSms(
        { systemRepository: () => deps.systemRepository(), audit: deps.audit, serverUrl: config.serverUrl },
        params
      );
      res.status(200).type('text/xml').send(answer);
    })
  );
}

/** express 5 passes a rejected promise to the error handler; this keeps the handlers' types plain. */
function route(handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    handler(req, res).catch(next);
  };
}

/**
 * Sending is for backend services (bots): a `system/` scope that may create Communication —
 * `system/Communication.c`, `system/Communication.cruds`, `system/*.c`, `system/*.write` … A
 * restricted scope (`?category=…`) does not count: what it restricts is not known for a mail.
 */
function mayMessage(claims: AccessTokenClaims | undefined): AccessTokenClaims {
  const granted = parseScopes(claims?.scope ?? '').resources.some(
    (s) =>
      s.context === 'system' &&
      (s.resourceType === '*' || s.resourceType === 'Communication') &&
      s.permissions.has('c') &&
      !s.params
  );
  if (!claims || !granted) {
    throw forbiddenBecause('Sending needs a system/ scope that may create Communication (e.g. system/Communication.c)');
  }
  return claims;
}

function parseSmsRequest(body: unknown): { to: string; body: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || body instanceof URLSearchParams) {
    throw new OperationOutcomeError(badRequest('Send { to, body } as a JSON object (application/json)'));
  }
  const b = body as Record<string, unknown>;
  const to = typeof b.to === 'string' ? toE164(b.to) : undefined;
  if (!to) {
    throw new OperationOutcomeError(badRequest("'to' must be a phone number in E.164 form, e.g. +64211234567"));
  }
  if (typeof b.body !== 'string' || b.body.trim() === '' || b.body.length > MAX_SMS_CHARS) {
    throw new OperationOutcomeError(badRequest(`'body' must be a text of 1 to ${MAX_SMS_CHARS} characters`));
  }
  return { to, body: b.body };
}

/** 503 (not configured) and 502 (the mail server or SMS provider failed): worth retrying later. */
function transient(id: string, text: string): OperationOutcomeError {
  const o: OperationOutcome = {
    resourceType: 'OperationOutcome',
    id,
    issue: [{ severity: 'error', code: 'transient', details: { text } }],
  };
  return new OperationOutcomeError(o);
}

const unavailable = (text: string): OperationOutcomeError => transient(SERVICE_UNAVAILABLE_ID, text);
const badGateway = (text: string): OperationOutcomeError => transient(BAD_GATEWAY_ID, text);

/** Only the error's codes: SMTP and provider messages can quote what was sent. */
function codes(err: unknown): { code: unknown; responseCode: unknown } {
  const e = err as { code?: unknown; responseCode?: unknown };
  return { code: e.code, responseCode: e.responseCode };
}
