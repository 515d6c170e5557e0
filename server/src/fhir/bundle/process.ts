import { OperationOutcomeError, allOk, badRequest, contentTooLarge } from '@medplum/core';
import type { FhirRequest, FhirResponse, FhirRouter } from '@medplum/fhir-router';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { originOf } from '../../storage/error-origin';
import { rememberJson } from '../../storage/stored-json';
import { responseJson } from '../response-json';
import { VersionConflictError } from '../../storage/version-conflict';
import type { HaleRepository } from '../../storage/repository';
import type { ParsedEntry } from './entries';
import { ORDER, entryError, parseEntry } from './entries';
import { executeEntry } from './execute';
import { retryableOutcome } from '../errors';
import { outcomeStatus, parsePrefer } from '../http';
import type { ReturnPreference } from './prefer';
import { returnPreference, shapeEntry } from './prefer';
import type { RunEntry } from './early-writes';
import { noteMatches, writeEarly, writesEarly } from './early-writes';
import { lockUnmatched, prefetchIdentifierMatches } from './identifier-matches';
import { assertUniqueTargets, resolveIdentity } from './identity';
import type { Rewrite } from './rewrite';
import { Names, identityMap, resolveConditionalReferences, rewriteReferences, undoRewrites } from './rewrite';

/**
 * POST / with a batch or transaction Bundle (FHIR R4 http.html#transaction).
 *
 * A transaction runs in one PostgreSQL transaction: identities are resolved first (new ids,
 * ifNoneExist matches, conditional update/patch/delete targets, each conditional under an
 * advisory lock), references to fullUrls and conditional references are rewritten, entries run
 * in the order DELETE, POST, PUT/PATCH, GET, and any failure rolls everything back with an
 * OperationOutcome naming the entry. A batch runs each entry on its own. A Bundle of more than
 * `maxEntries` entries is refused (413) before any of them is looked at.
 */
export async function bundleHandler(
  req: FhirRequest,
  repo: HaleRepository,
  router: FhirRouter,
  maxEntries: number
): Promise<FhirResponse> {
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
  const entries = bundle.entry;
  if (entries.length > maxEntries) {
    throw new OperationOutcomeError(
      contentTooLarge(`A ${bundle.type} Bundle may hold at most ${maxEntries} entries; this one has ${entries.length}`)
    );
  }
  const prefer = returnPreference(parsePrefer(headerOf(req, 'prefer')).return);
  const result =
    bundle.type === 'transaction'
      ? await transaction(repo, router, entries, prefer)
      : await batch(repo, router, entries, prefer);
  return [allOk, result];
}

async function transaction(
  repo: HaleRepository,
  router: FhirRouter,
  raw: BundleEntry[],
  prefer: ReturnPreference
): Promise<Bundle> {
  // A deadlock or serialization failure re-runs the callback. References are rewritten in place
  // (nothing else changes the entries), so a retry first puts back what the last attempt replaced.
  const rewrites: Rewrite[] = [];
  return repo.withTransaction(async (tx) => {
    undoRewrites(rewrites);
    const entries = raw.map((entry, i) => parseEntry(router, repo.ctx.baseUrl, entry, i));
    const results: BundleEntry[] = new Array(entries.length);
    const answer: Bundle = { resourceType: 'Bundle', type: 'transaction-response', entry: results };
    const ordered = [...entries].sort((a, b) => (ORDER[a.method] ?? 9) - (ORDER[b.method] ?? 9));
    // Each entry is rewritten just before it runs, so that the work overlaps PostgreSQL writing
    // the chunks before it instead of delaying the first one.
    const run: RunEntry = async (e, names) => {
      rewriteReferences(e.entry.resource, names, rewrites);
      results[e.index] = shapeEntry(await runEntry(tx, router, e), e, prefer);
    };
    try {
      if (writesEarly(entries)) {
        await writeEarly(tx, ordered, run);
      } else {
        await prefetchIdentifierMatches(tx, entries);
        await lockUnmatched(tx, entries);
        for (const e of ordered) {
          await resolveIdentity(tx, e);
        }
        assertUniqueTargets(entries);
        noteMatches(tx, entries);
        const map = identityMap(entries);
        await resolveConditionalReferences(tx, entries, map);
        const names = new Names(map);
        for (const e of ordered) {
          await run(e, names);
        }
      }
      // The AuditEvents join the last chunk rather than take a statement of their own (~0.3 ms of
      // PostgreSQL's time at the end of every bundle). Building them first delays nothing: PostgreSQL
      // is still writing the chunks before. If anything fails, the transaction rolls back with them.
      const auditWrites = await repo.ctx.beforeCommit?.(answer);
      if (auditWrites) {
        tx.bufferWrites(auditWrites);
      }
      const flushed = tx.finishWrites();
      flushed.catch(() => undefined);
      // The answer is complete: its JSON (~0.5 MB for 300 entries) is built now, while PostgreSQL
      // writes the last chunks, instead of after the commit. It is sent only if the commit succeeds.
      rememberJson(answer, responseJson(answer, false));
      await flushed;
    } catch (err) {
      throw nameEntry(err, entries);
    }
    return answer;
  });
}

async function runEntry(repo: HaleRepository, router: FhirRouter, e: ParsedEntry): Promise<BundleEntry> {
  try {
    return await executeEntry(repo, router, e);
  } catch (err) {
    throw err instanceof OperationOutcomeError && !originOf(err) ? entryError(e.index, err.outcome) : err;
  }
}

function headerOf(req: FhirRequest, name: string): string | undefined {
  const value = req.headers?.[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Failures found later (at flush) carry the resource they concern; find its entry. */
function nameEntry(err: unknown, entries: readonly ParsedEntry[]): unknown {
  // A version conflict is left as it is: the transaction is retried on it (flush.ts).
  if (!(err instanceof OperationOutcomeError) || 'index' in err || err instanceof VersionConflictError) {
    return err;
  }
  const origin = originOf(err);
  const e = origin ? entries.find((x) => x.target && `${x.target.type}/${x.target.id}` === origin) : undefined;
  return e ? entryError(e.index, err.outcome) : err;
}

async function batch(
  repo: HaleRepository,
  router: FhirRouter,
  raw: BundleEntry[],
  prefer: ReturnPreference
): Promise<Bundle> {
  const results: BundleEntry[] = [];
  for (let i = 0; i < raw.length; i++) {
    try {
      const e = parseEntry(router, repo.ctx.baseUrl, raw[i] as BundleEntry, i);
      results.push(
        await repo.withTransaction(async (tx) => {
          await resolveIdentity(tx, e);
          const map = identityMap([e]);
          await resolveConditionalReferences(tx, [e], map);
          rewriteReferences(e.entry.resource, new Names(map));
          const out = await executeEntry(tx, router, e);
          await tx.finishWrites();
          return shapeEntry(out, e, prefer);
        })
      );
    } catch (err) {
      const retryable = retryableOutcome(err);
      if (retryable) {
        // The entries before this one have committed: the client learns which, and retries this one.
        results.push({ response: { status: '503', outcome: retryable } });
        continue;
      }
      if (!(err instanceof OperationOutcomeError)) {
        throw err; // a bug, not a bad entry: the request fails and the error is logged
      }
      results.push({ response: { status: String(outcomeStatus(err.outcome)), outcome: err.outcome } });
    }
  }
  return { resourceType: 'Bundle', type: 'batch-response', entry: results };
}
