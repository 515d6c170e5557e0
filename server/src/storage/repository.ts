import type { Operation, SearchRequest, WithId } from '@medplum/core';
import { OperationOutcomeError, applyPatch, badRequest, notFound, preconditionFailed } from '@medplum/core';
import type {
  CreateResourceOptions,
  ReadHistoryOptions,
  RepositoryMode,
  TransactionOptions,
  UpdateResourceOptions,
} from '@medplum/fhir-router';
import { FhirRepository } from '@medplum/fhir-router';
import type { Bundle, Parameters, Reference, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database';
import { sql } from '../db/sql';
import type { RepoContext } from './context';
import type { PendingWrite } from './flush';
import { tagOrigin } from './error-origin';
import { flushWrites } from './flush';
import { readHistoryBundle } from './history';
import type { PreparedVersion } from './prepare';
import { assertId, assertResourceType, prepareVersion, sameContent } from './prepare';
import { keepServerOwned } from './server-owned';
import type { VersionKey } from './read';
import { accessClause, readCurrent, readManyByReference, readVersionRow, readVersionRows } from './read';
import { assertReferencesExist } from './references';
import { searchBundle, searchByReferenceImpl } from './search';
import { WriteBuffer } from './write-buffer';
import { newResourceId } from './ids';
import type { StoredAccess } from './write-access';
import { storedAccess } from './write-access';

interface CurrentRow {
  rid: string;
  version_id: number;
  deleted: boolean;
  content: string | null;
  compartments: string[];
}

/**
 * Hale's PostgreSQL FhirRepository. One instance per request, carrying the caller's access
 * policy. Inside a transaction, creates are buffered and written in chunks of many versions per
 * statement (write-buffer.ts), all of them before anything reads and before the commit, so a
 * 300-entry bundle costs a few round trips.
 */
export class HaleRepository extends FhirRepository {
  private buffer: WriteBuffer | undefined;

  constructor(readonly ctx: RepoContext) {
    super();
  }

  get queryable(): Queryable {
    return this.ctx.tx ?? this.ctx.db;
  }

  setMode(_mode: RepositoryMode): void {
    // One pool serves reads and writes; there are no read replicas to route to.
  }

  generateId(): string {
    return newResourceId();
  }

  async withTransaction<T>(callback: (txRepo: this) => Promise<T>, options?: TransactionOptions): Promise<T> {
    if (this.ctx.tx) {
      return callback(this);
    }
    return this.ctx.db.transaction(
      async (tx) => {
        const txRepo = new HaleRepository({ ...this.ctx, tx }) as this;
        try {
          const result = await callback(txRepo);
          await txRepo.finishWrites();
          return result;
        } catch (err) {
          await txRepo.buffer?.settle(); // the rollback must not overtake a chunk still being written
          throw err;
        }
      },
      options?.serializable ? 'serializable' : 'read committed'
    );
  }

  /** Inside a transaction: resources it found to exist and will not delete (see WriteBuffer.noteFound). */
  noteFound(keys: Iterable<string>): void {
    if (this.ctx.tx) {
      (this.buffer ??= new WriteBuffer(this.ctx.tx, this.ctx.afterWrite)).noteFound(keys);
    }
  }

  /** Inside a transaction: writes made elsewhere (AuditEvents) that go out with the last buffered creates. */
  bufferWrites(writes: readonly PendingWrite[]): void {
    if (!this.ctx.tx) {
      throw new Error('bufferWrites needs a transaction');
    }
    (this.buffer ??= new WriteBuffer(this.ctx.tx, this.ctx.afterWrite)).addWrites(writes);
  }

  /** Writes the buffered creates now (before a read, a search or an update in the same transaction). */
  async flush(): Promise<void> {
    await this.buffer?.flush();
  }

  /** Writes the buffered creates and checks the references of all the transaction wrote: before its commit. */
  async finishWrites(): Promise<void> {
    await this.buffer?.finish();
  }

  /**
   * Inside a caller's transaction (a bundle) the references are checked at its end (finishWrites),
   * when every entry is written; a write that is its own transaction checks them at once.
   */
  private async writeVersions(tx: Queryable, versions: readonly PreparedVersion[]): Promise<void> {
    if (this.ctx.tx) {
      (this.buffer ??= new WriteBuffer(this.ctx.tx, this.ctx.afterWrite)).noteWritten(versions);
    } else {
      const written = new Set(versions.map((v) => `${v.write.type}/${v.write.id}`));
      await assertReferencesExist(
        tx,
        versions.flatMap((v) => v.references),
        written
      );
    }
    await flushWrites(
      tx,
      versions.map((v) => v.write)
    );
    this.ctx.afterWrite?.(versions.length);
  }

  /** Runs a write either in the surrounding transaction or in one of its own. */
  private async inTransaction<T>(fn: (repo: HaleRepository) => Promise<T>): Promise<T> {
    if (this.ctx.tx) {
      await this.flush();
      return fn(this);
    }
    return this.withTransaction((txRepo) => fn(txRepo));
  }

  async createResource<T extends Resource>(resource: T, options?: CreateResourceOptions): Promise<WithId<T>> {
    this.ctx.access.checkInteraction(resource?.resourceType, 'create');
    const id = options?.assignedId && resource.id ? resource.id : this.generateId();
    let version: PreparedVersion;
    try {
      const input = keepServerOwned(this.ctx, resource, undefined);
      version = prepareVersion(this.ctx, input, id, 1, new Date().toISOString(), 'POST', false);
    } catch (err) {
      throw tagOrigin(err, `${resource?.resourceType}/${id}`);
    }
    if (this.ctx.tx) {
      await (this.buffer ??= new WriteBuffer(this.ctx.tx, this.ctx.afterWrite)).add(version);
    } else {
      await this.ctx.db.transaction((tx) => this.writeVersions(tx, [version]));
    }
    return version.resource as WithId<T>;
  }

  private async lockCurrent(type: string, id: string): Promise<CurrentRow | undefined> {
    const rows = await this.queryable.query<CurrentRow>(
      sql`SELECT rid, version_id, deleted, content, compartments FROM resource WHERE type = ${type} AND id = ${id} FOR UPDATE`
    );
    return rows[0];
  }

  private accessToStored(type: string, current: CurrentRow, interaction: 'update' | 'delete'): Promise<StoredAccess> {
    return storedAccess(this.queryable, this.ctx.access, type, current, interaction);
  }

  private checkIfMatch(current: CurrentRow | undefined, ifMatch: string | undefined): void {
    if (ifMatch !== undefined && (!current || String(current.version_id) !== ifMatch)) {
      throw new OperationOutcomeError(preconditionFailed);
    }
  }

  async updateResource<T extends Resource>(resource: T, options?: UpdateResourceOptions): Promise<WithId<T>> {
    return (await this.updateResourceWithOutcome(resource, options)).resource;
  }

  /** Update, telling whether it created the resource (update-as-create answers 201, not 200). */
  async updateResourceWithOutcome<T extends Resource>(
    resource: T,
    options?: UpdateResourceOptions
  ): Promise<{ resource: WithId<T>; created: boolean }> {
    if (!resource?.id) {
      throw new OperationOutcomeError(badRequest('Missing id'));
    }
    assertResourceType(resource.resourceType);
    assertId(resource.id);
    this.ctx.access.checkInteraction(resource.resourceType, 'update');
    return this.inTransaction(async (repo) => {
      try {
        return await repo.updateLocked(resource, options);
      } catch (err) {
        throw tagOrigin(err, `${resource.resourceType}/${resource.id}`);
      }
    });
  }

  private async updateLocked<T extends Resource>(
    resource: T,
    options?: UpdateResourceOptions
  ): Promise<{ resource: WithId<T>; created: boolean }> {
    const current = await this.lockCurrent(resource.resourceType, resource.id as string);
    // The replaced version (a deleted one too: reviving it takes over its id) must be the caller's to write.
    const stored = current ? await this.accessToStored(resource.resourceType, current, 'update') : undefined;
    if (stored && !stored.ok && stored.hidden) {
      // As for an id that is free: If-Match fails, else the write is refused like any other (docs/consent.md).
      this.checkIfMatch(undefined, options?.ifMatch);
      throw stored.refusal;
    }
    this.checkIfMatch(current, options?.ifMatch);
    if (stored && !stored.ok) {
      throw stored.refusal;
    }
    const versionId = current ? current.version_id + 1 : 1;
    const version = prepareVersion(
      this.ctx,
      keepServerOwned(this.ctx, resource, current?.deleted ? undefined : current?.content),
      resource.id as string,
      versionId,
      new Date().toISOString(),
      'PUT',
      Boolean(current)
    );
    if (current?.content && !current.deleted && sameContent(current.content, version.resource)) {
      // An update that changes nothing keeps the current version (no new history entry).
      return { resource: JSON.parse(current.content) as WithId<T>, created: false };
    }
    await this.writeVersions(this.queryable, [version]);
    return { resource: version.resource as WithId<T>, created: !current };
  }

  async patchResource<T extends Resource>(
    resourceType: T['resourceType'],
    id: string,
    patch: Operation[] | Parameters,
    options?: UpdateResourceOptions
  ): Promise<WithId<T>> {
    assertResourceType(resourceType);
    this.ctx.access.checkInteraction(resourceType, 'update');
    if (!Array.isArray(patch)) {
      throw new OperationOutcomeError(badRequest('Only JSON Patch (application/json-patch+json) is supported'));
    }
    return this.inTransaction(async (repo) => {
      const current = await repo.lockCurrent(resourceType, id);
      if (!current?.content || current.deleted) {
        throw new OperationOutcomeError(notFound);
      }
      const stored = await repo.accessToStored(resourceType, current, 'update');
      if (!stored.ok && stored.hidden) {
        throw new OperationOutcomeError(notFound); // what an id that does not exist answers
      }
      repo.checkIfMatch(current, options?.ifMatch);
      if (!stored.ok) {
        throw stored.refusal; // before the patch is applied: its errors would tell a non-writer about the content
      }
      const target = JSON.parse(current.content) as Resource;
      const results = applyPatchSafely(target, patch);
      const failed = results.find((r) => r !== null);
      if (failed) {
        throw new OperationOutcomeError(badRequest(`Patch failed: ${failed.message}`));
      }
      if (target.resourceType !== resourceType || target.id !== id) {
        throw new OperationOutcomeError(badRequest('Patch may not change resourceType or id'));
      }
      const version = prepareVersion(
        repo.ctx,
        keepServerOwned(repo.ctx, target, current.content),
        id,
        current.version_id + 1,
        new Date().toISOString(),
        'PATCH',
        true
      );
      await repo.writeVersions(repo.queryable, [version]);
      return version.resource as WithId<T>;
    });
  }

  async deleteResource(resourceType: string, id: string, options?: UpdateResourceOptions): Promise<void> {
    assertResourceType(resourceType);
    this.ctx.access.checkInteraction(resourceType, 'delete');
    await this.inTransaction(async (repo) => {
      const current = await repo.lockCurrent(resourceType, id);
      const stored = current ? await repo.accessToStored(resourceType, current, 'delete') : undefined;
      if (!current || (stored && !stored.ok && stored.hidden)) {
        throw new OperationOutcomeError(notFound); // absent and hidden alike
      }
      repo.checkIfMatch(current, options?.ifMatch);
      if (current.deleted) {
        return; // deleting a deleted resource changes nothing (FHIR R4 http.html#delete)
      }
      if (stored && !stored.ok) {
        throw stored.refusal;
      }
      const tombstone: PendingWrite = {
        type: resourceType,
        id,
        versionId: current.version_id + 1,
        lastUpdated: new Date().toISOString(),
        deleted: true,
        method: 'DELETE',
        content: null,
        compartments: current.compartments,
        rows: undefined,
        replaces: true,
      };
      await flushWrites(repo.queryable, [tombstone]);
    });
  }

  async readResource<T extends Resource>(resourceType: string, id: string): Promise<WithId<T>> {
    assertResourceType(resourceType);
    this.ctx.access.checkInteraction(resourceType, 'read');
    await this.flush();
    return readCurrent<T>(this.queryable, this.ctx.access, resourceType, id);
  }

  async readReference<T extends Resource>(reference: Reference<T>): Promise<WithId<T>> {
    const [type, id] = (reference.reference ?? '').split('/');
    if (!type || !id) {
      throw new OperationOutcomeError(badRequest('Invalid reference'));
    }
    return this.readResource<T>(type, id);
  }

  async readReferences<T extends Resource>(references: readonly Reference<T>[]): Promise<(T | Error)[]> {
    await this.flush();
    return readManyByReference<T>(this.queryable, this.ctx.access, references);
  }

  async readVersion<T extends Resource>(resourceType: string, id: string, vid: string): Promise<WithId<T>> {
    assertResourceType(resourceType);
    this.ctx.access.checkInteraction(resourceType, 'read');
    await this.flush();
    return readVersionRow<T>(this.queryable, this.ctx.access, resourceType, id, vid);
  }

  /** Many versions in one query: each the resource, or the Error readVersion would throw for it. */
  async readVersions<T extends Resource>(keys: readonly VersionKey[]): Promise<(WithId<T> | Error)[]> {
    keys.forEach((k) => assertResourceType(k.type));
    new Set(keys.map((k) => k.type)).forEach((type) => this.ctx.access.checkInteraction(type, 'read'));
    await this.flush();
    return readVersionRows<T>(this.queryable, this.ctx.access, keys);
  }

  async readHistory<T extends Resource>(
    resourceType: string,
    id: string,
    options?: ReadHistoryOptions
  ): Promise<Bundle<WithId<T>>> {
    assertResourceType(resourceType);
    this.ctx.access.checkInteraction(resourceType, 'read');
    await this.assertVisible(resourceType, id);
    return readHistoryBundle(this.queryable, this.ctx, {
      resourceType,
      id,
      offset: options?.offset,
      count: options?.limit,
    }) as Promise<Bundle<WithId<T>>>;
  }

  /** Existence (and visibility) of a resource, current or deleted: an unknown id answers 404 rather than an empty history. */
  async assertVisible(resourceType: string, id: string): Promise<void> {
    await this.flush();
    const exists = await this.queryable.query(
      sql`SELECT 1 FROM resource r WHERE r.type = ${resourceType} AND r.id = ${id} AND ${accessClause(this.ctx.access, 'r', resourceType)}`
    );
    if (exists.length === 0) {
      throw new OperationOutcomeError(notFound);
    }
  }

  async search<T extends Resource>(searchRequest: SearchRequest<T>): Promise<Bundle<WithId<T>>> {
    await this.flush();
    return searchBundle(this.queryable, this.ctx, searchRequest) as Promise<Bundle<WithId<T>>>;
  }

  /**
   * The matches of a search, for conditional create, update, patch and delete and for a Bundle's ifNoneExist and
   * conditional URLs. Two things differ from the base class's, which returned every entry of search(): an entry
   * that only reports ignored parameters (`search.mode: outcome`) or an `_include`d resource is not a match (a
   * conditional create with an unknown parameter "found" that OperationOutcome, answered 200 and created nothing);
   * and an unknown parameter is refused with 400 whatever Prefer says, since ignoring a criterion widens the match
   * a write acts on (found by the fuzz suite, server/src/fuzz/).
   */
  override async searchResources<T extends Resource>(searchRequest: SearchRequest<T>): Promise<WithId<T>[]> {
    await this.flush();
    const bundle = await searchBundle(this.queryable, { ...this.ctx, strictSearch: true }, searchRequest);
    return (bundle.entry ?? [])
      .filter((e) => e.search?.mode !== 'outcome' && e.search?.mode !== 'include')
      .map((e) => e.resource as WithId<T>);
  }

  async searchByReference<T extends Resource>(
    searchRequest: SearchRequest<T>,
    referenceField: string,
    references: string[]
  ): Promise<Record<string, WithId<T>[]>> {
    await this.flush();
    return searchByReferenceImpl(this.queryable, this.ctx, searchRequest, referenceField, references) as Promise<
      Record<string, WithId<T>[]>
    >;
  }
}

function applyPatchSafely(target: Resource, patch: Operation[]): (Error | null)[] {
  try {
    return applyPatch(target, patch);
  } catch (err) {
    return [err instanceof Error ? err : new Error(String(err))];
  }
}
