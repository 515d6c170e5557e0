import { OperationOutcomeError, accepted, badRequest, notFound } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { Binary, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { parseScopes } from '../../auth/oauth';
import { forbiddenBecause } from '../../fhir/errors';
import { callerOf } from '../../fhir/operations/context';
import { withResponseHeaders } from '../../fhir/http';
import type { HaleRepository } from '../../storage/repository';
import { tooManyJobs } from '../kickoff';
import { parsePreferAsync } from '../parameters';
import type { BulkImports } from './service';
import type { NewImportFile } from './store';

export const NDJSON_TYPES = new Set(['application/fhir+ndjson', 'application/ndjson', 'application/x-ndjson']);
const RESOURCE_TYPE = /"resourceType"\s*:\s*"([A-Za-z]{1,64})"/;

/**
 * `POST [base]/$import`: an NDJSON body (one file; `?type=` declares its resource type) or a
 * Parameters whose `input` parts name Binary resources holding NDJSON. Only a system token with
 * create and update scopes on every type the files hold may import (403 otherwise). The files are
 * stored with the import and run by the worker; 202 with the status URL.
 */
export function importKickoff(imports: BulkImports | undefined) {
  return async (req: FhirRequest, repo: HaleRepository): Promise<FhirResponse> => {
    if (!imports) {
      throw new OperationOutcomeError(notFound);
    }
    const headers = req.headers ?? {};
    if (!parsePreferAsync(headers.prefer).async) {
      throw new OperationOutcomeError(badRequest('$import runs asynchronously: send Prefer: respond-async'));
    }
    const caller = callerOf(repo);
    const contentType = String(headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim()
      .toLowerCase();
    const { files, types } = NDJSON_TYPES.has(contentType ?? '')
      ? ndjsonBody(req)
      : await binaryInputs(repo, req.body as Parameters | undefined);
    checkScopes(repo, caller.scope, types);
    const id = randomUUID();
    const created = await imports.store.create(
      {
        id,
        client_id: caller.client_id,
        subject: caller.sub,
        claims: caller,
        request_url: `${repo.ctx.baseUrl}/$import`,
      },
      files,
      imports.limits
    );
    if (created === 'busy') {
      throw tooManyJobs('imports');
    }
    imports.kick();
    const statusUrl = imports.statusUrl(id);
    return [withResponseHeaders(accepted(statusUrl), { 'Content-Location': statusUrl })];
  };
}

/** The resource types named by the lines of an NDJSON text (a cheap scan; each line is parsed when it runs). */
export function typesIn(text: string): Set<string> {
  const types = new Set<string>();
  for (const line of text.split('\n')) {
    const type = RESOURCE_TYPE.exec(line)?.[1];
    if (type) {
      types.add(type);
    }
  }
  return types;
}

function ndjsonBody(req: FhirRequest): { files: NewImportFile[]; types: Set<string> } {
  const body = typeof req.body === 'string' ? req.body : '';
  if (!body.trim()) {
    throw new OperationOutcomeError(badRequest('The NDJSON body is empty'));
  }
  const declared = typeof req.query.type === 'string' ? req.query.type : undefined;
  return { files: [{ source: 'body', body, type: declared }], types: declared ? new Set([declared]) : typesIn(body) };
}

function binaryIdOf(part: ParametersParameter, baseUrl: string): string | undefined {
  const ref = part.valueReference?.reference ?? part.valueUrl ?? part.valueUri ?? part.valueString;
  const path = ref?.startsWith(`${baseUrl}/`) ? ref.slice(baseUrl.length + 1) : ref;
  return /^Binary\/([A-Za-z0-9\-.]{1,64})$/.exec(path ?? '')?.[1];
}

/**
 * A Parameters `input` part per file: `type` (optional) and a Binary, as `url` or a reference
 * (`Binary/<id>`, relative or under this server's base). Pulling from other servers is not built.
 */
async function binaryInputs(
  repo: HaleRepository,
  body: Parameters | undefined
): Promise<{ files: NewImportFile[]; types: Set<string> }> {
  if (body?.resourceType !== 'Parameters') {
    throw new OperationOutcomeError(
      badRequest('Send NDJSON (Content-Type: application/fhir+ndjson) or a Parameters naming Binary inputs')
    );
  }
  const inputs = (body.parameter ?? []).filter((p) => p.name === 'input');
  if (inputs.length === 0) {
    throw new OperationOutcomeError(badRequest('The Parameters has no input'));
  }
  const files: NewImportFile[] = [];
  const types = new Set<string>();
  for (const input of inputs) {
    const parts = input.part ?? [];
    const type = parts.find((p) => p.name === 'type');
    const declared = type?.valueCode ?? type?.valueString;
    const source = parts.find((p) => p.name !== 'type' && binaryIdOf(p, repo.ctx.baseUrl));
    const binaryId = source && binaryIdOf(source, repo.ctx.baseUrl);
    if (!binaryId) {
      throw new OperationOutcomeError(
        badRequest(
          'Each input names a Binary of this server (url or valueReference Binary/<id>); other URLs are not pulled'
        )
      );
    }
    const binary = await repo.readResource<Binary>('Binary', binaryId); // 404 for an absent or hidden Binary
    const found = declared ? [declared] : typesIn(Buffer.from(binary.data ?? '', 'base64').toString('utf8'));
    found.forEach((t) => types.add(t));
    files.push({ source: `Binary/${binaryId}`, type: declared });
  }
  return { files, types };
}

/** A system scope with create and update on each type (a patient/ or user/ token may not import at all). */
function checkScopes(repo: HaleRepository, scope: string, types: ReadonlySet<string>): void {
  const scopes = parseScopes(scope).resources.filter((s) => s.context === 'system');
  if (scopes.length === 0) {
    throw forbiddenBecause('$import needs a system token (SMART Backend Services)');
  }
  for (const type of types) {
    const ok = scopes.some(
      (s) => (s.resourceType === '*' || s.resourceType === type) && s.permissions.has('c') && s.permissions.has('u')
    );
    if (!ok) {
      throw forbiddenBecause(`$import of ${type} needs system/${type}.cu`);
    }
    repo.ctx.access.checkInteraction(type, 'create');
    repo.ctx.access.checkInteraction(type, 'update');
  }
}
