import { OperationOutcomeError } from '@medplum/core';
import type { AuditEvent, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Request } from 'express';
import type { AccessTokenClaims } from '../auth/types';
import type { Queryable } from '../db/database';
import { sql } from '../db/sql';
import { retryableOutcome } from '../fhir/errors';
import type { Logger } from '../logger';
import type { AccessPolicy } from '../storage/access';
import type { PendingWrite } from '../storage/flush';
import type { AuditWriter } from './audit-writer';
import { buildAuditEvents } from './build-event';
import type { ClassifiedRequest } from './interaction';
import { classifyRequest } from './interaction';
import type { Involved } from './involved';
import { addRequest, addResponse, emptyInvolved } from './involved';

const UNAVAILABLE: OperationOutcome = {
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'exception', details: { text: 'Audit trail unavailable' } }],
};

/**
 * The request's audit record could not be committed: its answer is withheld (500, or 503 with
 * Retry-After when the database connection was lost, the write timed out or the disk is full, so the client knows to
 * try again).
 */
export class AuditUnavailableError extends OperationOutcomeError {
  constructor(cause: unknown) {
    super(retryableOutcome(cause) ?? UNAVAILABLE, { cause });
  }
}

export interface RequestAuditDeps {
  writer: AuditWriter;
  db: Queryable;
  /** The public FHIR base URL. */
  baseUrl: string;
  logger: Logger;
}

/** What the request path hands the audit hook once the answer is known. */
export interface AnsweredRequest {
  req: Request;
  claims: AccessTokenClaims;
  /** Undefined when the caller's policy could not even be built. */
  access: AccessPolicy | undefined;
  status: number;
  /** The resource or Bundle about to be sent, or the OperationOutcome of a failure. */
  body: Resource | undefined;
  /** What the request read when its answer is not FHIR ($graphql): RepoContext.disclosed. */
  disclosed?: readonly Resource[];
}

const LOOKUP_INTERACTIONS: ReadonlySet<string> = new Set([
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history-instance',
]);

/**
 * The post-answer hook of the FHIR request path: builds the request's AuditEvents and waits until
 * they are committed. Throws AuditUnavailableError when they cannot be; the caller then answers 500
 * instead of the data.
 */
export class RequestAuditor {
  constructor(private readonly deps: RequestAuditDeps) {}

  get writer(): AuditWriter {
    return this.deps.writer;
  }

  async record(answered: AnsweredRequest): Promise<void> {
    const { req } = answered;
    try {
      await this.deps.writer.recordAll(await this.eventsOf(answered));
    } catch (err) {
      this.deps.logger.error({ err, reqId: req.id, method: req.method, path: req.path }, 'audit trail unavailable');
      throw new AuditUnavailableError(err);
    }
  }

  /**
   * The events as writes for the request's own transaction, before it commits (a transaction
   * Bundle): the data and its audit trail then commit together. A failure fails the transaction.
   */
  async writesIn(answered: AnsweredRequest): Promise<PendingWrite[]> {
    return this.deps.writer.prepareIn(await this.eventsOf(answered));
  }

  private async eventsOf(answered: AnsweredRequest): Promise<AuditEvent[]> {
    const { req, claims, access, status, body, disclosed } = answered;
    const { baseUrl } = this.deps;
    const request = classifyRequest(req.method, req.path, req.body);
    const involved = emptyInvolved();
    const form = req.body instanceof URLSearchParams ? Object.fromEntries(req.body) : {};
    addRequest(involved, request, { ...form, ...(req.query as Record<string, unknown>) }, req.body, baseUrl);
    addResponse(involved, body, baseUrl, req.body);
    if (status < 400) {
      disclosed?.forEach((r) => addResponse(involved, r, baseUrl));
    }
    if (status >= 400 || request.interaction === 'delete') {
      await this.addTarget(involved, request);
    }
    return buildAuditEvents({
      request,
      status,
      recorded: new Date().toISOString(),
      caller: { fhirUser: claims.fhirUser, subject: claims.sub, clientId: claims.client_id },
      involved,
      url: searchUrl(req),
      requestId: req.id,
      address: req.ip,
      outcomeText: body?.resourceType === 'OperationOutcome' ? outcomeText(body) : undefined,
      basisFor: access?.basisFor ? (ids) => access.basisFor?.(ids) ?? [] : undefined,
      site: baseUrl,
    });
  }

  /**
   * A delete or a refusal shows no resource, yet it concerns the resource asked for and the patients
   * it belongs to (a tombstone keeps its compartments): one primary-key lookup, on these paths only,
   * so that a patient's log shows deletions of and attempts on their data too.
   */
  private async addTarget(involved: Involved, request: ClassifiedRequest): Promise<void> {
    const { resourceType, id, interaction } = request;
    if (!resourceType || !id || !LOOKUP_INTERACTIONS.has(interaction)) {
      return;
    }
    let patients = [id];
    if (resourceType !== 'Patient') {
      const rows = await this.deps.db.query<{ compartments: string[] }>(
        sql`SELECT compartments FROM resource WHERE type = ${resourceType} AND id = ${id}`
      );
      patients = rows[0]?.compartments ?? [];
      patients.forEach((p) => involved.patients.add(p));
    }
    involved.resources.set(`${resourceType}/${id}`, patients);
  }
}

/** The URL as received, with a POSTed search's form parameters appended (they are part of the query). */
function searchUrl(req: Request): string {
  if (!(req.body instanceof URLSearchParams)) {
    return req.originalUrl;
  }
  const form = req.body.toString();
  return form ? `${req.originalUrl}${req.originalUrl.includes('?') ? '&' : '?'}${form}` : req.originalUrl;
}

function outcomeText(outcome: Resource): string | undefined {
  const issue = (outcome as OperationOutcome).issue?.[0];
  return issue?.details?.text ?? issue?.diagnostics;
}
