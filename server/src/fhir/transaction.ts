import { OperationOutcomeError, allOk, badRequest, parseSearchRequest, preconditionFailed } from '@medplum/core';
import type { FhirRequest, FhirResponse, FhirRouter } from '@medplum/fhir-router';
import { processBatch } from '@medplum/fhir-router';
import type { Bundle, BundleEntry, OperationOutcome } from '@medplum/fhirtypes';
import { originOf } from '../storage/error-origin';
import type { HaleRepository } from '../storage/repository';

const CONDITIONAL_REF = /^([A-Z][A-Za-z]+)\?(.+)$/;

/**
 * POST / with a batch or transaction Bundle. On top of @medplum/fhir-router's processor
 * (ordering, urn:uuid rewriting, conditional URLs, ifNoneExist) this resolves conditional
 * references inside resources (`Patient?identifier=sys|val`, which must match exactly one
 * resource) and names the failing entry when a transaction is rolled back.
 */
export async function batchHandler(req: FhirRequest, repo: HaleRepository, router: FhirRouter): Promise<FhirResponse> {
  const bundle = req.body as Bundle;
  if (bundle?.resourceType !== 'Bundle') {
    throw new OperationOutcomeError(badRequest('Expected a Bundle of type batch or transaction'));
  }
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
    throw new OperationOutcomeError(
      badRequest(`Bundle.type must be batch or transaction, got ${bundle.type}`, 'Bundle.type')
    );
  }
  if (!Array.isArray(bundle.entry)) {
    throw new OperationOutcomeError(badRequest('Bundle.entry is missing', 'Bundle.entry'));
  }
  if (bundle.type === 'transaction') {
    await resolveConditionalReferences(repo, bundle.entry);
  }
  try {
    const result = await processBatch({ ...req, config: { ...req.config, transactions: true } }, repo, router, bundle);
    return [allOk, result];
  } catch (err) {
    throw bundle.type === 'transaction' ? nameFailingEntry(err, bundle.entry) : err;
  }
}

async function resolveConditionalReferences(repo: HaleRepository, entries: BundleEntry[]): Promise<void> {
  const resolved = new Map<string, string>();
  for (let i = 0; i < entries.length; i++) {
    const resource = entries[i]?.resource;
    if (!resource) {
      continue;
    }
    for (const ref of findConditionalReferences(resource)) {
      if (resolved.has(ref.value)) {
        continue;
      }
      const matches = await repo.searchResources({ ...parseSearchRequest(ref.value), count: 2, sortRules: undefined });
      const path = `Bundle.entry[${i}].resource.${ref.path}`;
      if (matches.length === 0) {
        throw new OperationOutcomeError(badRequest(`Conditional reference ${ref.value} matched no resource`, path));
      }
      if (matches.length > 1) {
        throw new OperationOutcomeError(
          withPath(preconditionFailed, `Conditional reference ${ref.value} matched more than one resource`, path)
        );
      }
      const match = matches[0] as { resourceType: string; id: string };
      resolved.set(ref.value, `${match.resourceType}/${match.id}`);
    }
  }
  if (resolved.size > 0) {
    for (const entry of entries) {
      if (entry.resource) {
        replaceReferences(entry.resource, resolved);
      }
    }
  }
}

function findConditionalReferences(
  node: unknown,
  path = '',
  out: { value: string; path: string }[] = []
): { value: string; path: string }[] {
  if (Array.isArray(node)) {
    node.forEach((v, i) => findConditionalReferences(v, `${path}[${i}]`, out));
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'reference' && typeof v === 'string' && CONDITIONAL_REF.test(v)) {
        out.push({ value: v, path: `${path}${path ? '.' : ''}reference` });
      } else if (typeof v === 'object') {
        findConditionalReferences(v, `${path}${path ? '.' : ''}${k}`, out);
      }
    }
  }
  return out;
}

function replaceReferences(node: unknown, resolved: ReadonlyMap<string, string>): void {
  if (Array.isArray(node)) {
    node.forEach((v) => replaceReferences(v, resolved));
  } else if (node && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'reference' && typeof v === 'string' && resolved.has(v)) {
        obj[k] = resolved.get(v);
      } else if (typeof v === 'object') {
        replaceReferences(v, resolved);
      }
    }
  }
}

function withPath(base: OperationOutcome, text: string, path: string): OperationOutcome {
  return {
    ...base,
    issue: (base.issue ?? []).map((i) => ({ ...i, details: { text }, expression: [path] })),
  };
}

/** Prefixes the outcome of a failed transaction with the bundle entry it came from. */
function nameFailingEntry(err: unknown, entries: BundleEntry[]): unknown {
  const origin = originOf(err);
  if (!(err instanceof OperationOutcomeError) || !origin) {
    return err;
  }
  const index = entries.findIndex(
    (e) => (e.resource && `${e.resource.resourceType}/${e.resource.id}` === origin) || e.request?.url === origin
  );
  if (index < 0) {
    return err;
  }
  const outcome: OperationOutcome = {
    ...err.outcome,
    issue: (err.outcome.issue ?? []).map((issue) => ({
      ...issue,
      details: { text: `Bundle.entry[${index}] (${origin}): ${issue.details?.text ?? issue.diagnostics ?? 'failed'}` },
      expression: (issue.expression?.length ? issue.expression : [origin.split('/')[0] as string]).map((e) =>
        `Bundle.entry[${index}].resource.${e.replace(/^[A-Z][A-Za-z]+\.?/, '').replace(/^$/, '')}`.replace(/\.$/, '')
      ),
    })),
  };
  return new OperationOutcomeError(outcome);
}
