import type { OperationOutcome } from '@medplum/fhirtypes';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from '../db/database';
import type { Sql } from '../db/sql';
import { sql } from '../db/sql';
import type { Logger } from '../logger';
import type { AccessPolicy } from '../storage/access';
import type { BulkConfig } from './config';
import type { PolicyDeps } from './caller';
import { contextOf, policyOfClaims } from './caller';
import { NdjsonWriter } from './ndjson-writer';
import { freshenResourceStatistics } from './planner-stats';
import type { Line, WriterSink } from './ndjson-writer';
import type { ExportPlan } from './plan';
import { compileTypeFilter, planExport } from './plan';
import type { VersionRow } from './snapshot';
import { deletedPage, provenanceFor, typesWithRows, versionsPageQuery, visiblePatients } from './snapshot';
import type { ExportJob, ExportStore } from './store';
import { lineTransform } from './transform';

export interface RunDeps extends PolicyDeps {
  db: Database;
  store: ExportStore;
  config: BulkConfig;
  logger: Logger;
}

/** Test seam: runs after each page is written (a test revokes a Consent there, deterministically). */
export type AfterPage = (type: string, page: number) => Promise<void>;

/** The export was cancelled (DELETE on its status URL) or another worker took it over. */
export class ExportLost extends Error {}
/** The server is stopping: the export goes back to pending and starts over elsewhere. */
export class ExportStopped extends Error {}

/** The directory of one attempt of an export: a worker that lost its lease can never touch a later attempt's files. */
export function attemptDir(config: BulkConfig, job: Pick<ExportJob, 'id' | 'attempts'>): string {
  return join(config.dir, job.id, `a${job.attempts}`);
}

/** A write that set its lastUpdated before the transactionTime may still be committing: wait for it (at most 30 s). */
async function settle(db: Database, at: string, logger: Logger): Promise<void> {
  const until = Date.parse(at) + 1000;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, Math.min(200, until - Date.now())));
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const [row] = await db.query<{ n: string }>(sql`SELECT count(*) AS n FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname = current_database()
          AND xact_start <= ${at}::timestamptz + interval '1 second'`);
      if (Number(row?.n ?? 0) === 0) {
        return;
      }
    } catch {
      return; // no pg_stat_activity (the embedded database has one connection: nothing else is in flight)
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  logger.warn({ at }, 'bulk export: transactions older than the transactionTime are still open; exporting anyway');
}

/**
 * Between two lease renewals (each an UPDATE and a commit). Renewing after every page made the
 * commits most of a system export's time (one per page and per type, even an empty one); the
 * lease is LEASE_MS (2 minutes), and a DELETE is noticed within this long.
 */
const HEARTBEAT_MS = 1000;

/**
 * One attempt of an export, from scratch: every attempt writes the same snapshot (the stored
 * transactionTime), into a directory of its own. The caller's policy is rebuilt for every page, and
 * the lease is renewed between pages at most every HEARTBEAT_MS; a lost lease or a cancellation
 * stops the attempt at the next renewal.
 */
export class ExportRun {
  private lastBeat = 0;
  private readonly writers = new Map<string, NdjsonWriter>();
  private readonly messages: string[] = [];
  private readonly provenanceSeen = new Set<string>();
  private written = 0;
  private typesDone = 0;
  private plan: ExportPlan = { types: [], provenance: 'none' };
  private patients: readonly string[] | 'any' | undefined;
  /** The planned types with any row at all; the others are skipped without a query each. */
  private present = new Set<string>();
  private readonly typeFilterNoted = new Set<string>();
  private readonly dir: string;
  private readonly at: string;

  constructor(
    private readonly job: ExportJob,
    private readonly deps: RunDeps,
    private readonly signal: AbortSignal,
    private readonly afterPage?: AfterPage
  ) {
    this.dir = attemptDir(deps.config, job);
    const { until } = job.params;
    this.at = until && until < job.transaction_time ? until : job.transaction_time;
  }

  private readonly sink: WriterSink = {
    fileDone: async (file) => {
      if (!(await this.deps.store.addFile(this.job, file))) {
        throw new ExportLost('the export was cancelled or taken over');
      }
    },
    patients: (fileName, ids) => this.deps.store.addPatients(this.deps.db, this.job.id, fileName, ids),
  };

  private writer(kind: 'output' | 'deleted' | 'error', type: string): NdjsonWriter {
    const key = `${kind}:${type}`;
    let w = this.writers.get(key);
    if (!w) {
      w = new NdjsonWriter(this.dir, kind, type, this.deps.config.fileMaxResources, this.sink);
      this.writers.set(key, w);
    }
    return w;
  }

  private policy(): Promise<AccessPolicy> {
    return policyOfClaims(this.job.claims, this.deps);
  }

  /** Between pages: stop when the server stops, the lease is gone, or the client cancelled. */
  private async checkpoint(type: string, page: number): Promise<void> {
    if (this.signal.aborted) {
      throw new ExportStopped('the server is stopping');
    }
    if (Date.now() - this.lastBeat >= HEARTBEAT_MS) {
      const progress = `${this.typesDone}/${this.plan.types.length} types, ${this.written} resources (${type})`;
      if (!(await this.deps.store.heartbeat(this.job, progress))) {
        throw new ExportLost('the export was cancelled or taken over');
      }
      this.lastBeat = Date.now();
    }
    await this.afterPage?.(type, page);
  }

  async run(): Promise<void> {
    await rm(join(this.deps.config.dir, this.job.id), { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
    await this.deps.store.resetOutput(this.job);
    await Promise.all([
      settle(this.deps.db, this.job.transaction_time, this.deps.logger),
      freshenResourceStatistics(this.deps.db, this.deps.logger),
    ]);
    const policy = await this.policy();
    this.plan = planExport(this.job.level, this.job.params, policy);
    this.present = await typesWithRows(this.deps.db, this.plan.types);
    this.patients = await this.patientScope(policy);
    for (const type of this.plan.types) {
      await this.exportType(type);
      this.typesDone++;
    }
    if (this.job.params.since) {
      for (const type of this.plan.types) {
        await this.exportDeleted(type, this.job.params.since);
      }
    }
    await this.writeMessages();
    for (const w of this.writers.values()) {
      await w.close();
    }
  }

  /** Closes what is open without recording it (the attempt's directory goes with the next attempt or the export). */
  async abandon(): Promise<void> {
    for (const w of this.writers.values()) {
      await w.abandon();
    }
  }

  /** Patient level: any patient's compartment, or the `patient` list; Group level: the members. Both as visible now. */
  private async patientScope(policy: AccessPolicy): Promise<readonly string[] | 'any' | undefined> {
    const { level, params } = this.job;
    if (level === 'system') {
      return undefined;
    }
    if (level === 'patient' && !params.patients) {
      return 'any';
    }
    const asked = params.patients ?? [];
    const visible = await visiblePatients(this.deps.db, policy, asked);
    if (visible.length < asked.length) {
      const of = level === 'group' ? `members of Group/${this.job.group_id ?? ''}` : 'requested patients';
      this.messages.push(`${asked.length - visible.length} of ${asked.length} ${of} are not visible to this client`);
    }
    return visible;
  }

  /**
   * One type, page by page. The next page is read while the current one is written (its first id
   * is known as soon as the current page arrives); before it is used, the page's query is built
   * again with the policy of that moment, and a page read under another policy (a Consent revoked
   * meanwhile) is read again. So a revocation still holds from the next page on.
   */
  private async exportType(type: string): Promise<void> {
    const transform = lineTransform(type, this.job.params.elements, this.deps.baseUrl);
    const dedupe = type === 'Provenance' && this.plan.provenance !== 'none';
    if ((Array.isArray(this.patients) && this.patients.length === 0) || !this.present.has(type)) {
      return;
    }
    let next = this.readPage(type, '');
    for (let page = 1; ; page++) {
      let { rows, access, key } = await next;
      if (page > 1) {
        const now = await this.pageQuery(type, rows.after);
        if (now.key !== key) {
          ({ rows, access, key } = await this.readPage(type, rows.after, now));
        }
      }
      const last = rows.list[rows.list.length - 1];
      const more = last !== undefined && rows.list.length >= this.deps.config.pageSize;
      if (more) {
        next = this.readPage(type, last.id);
        next.catch(() => undefined); // awaited on the next turn; a failure of this page comes first
      }
      const lines: Line[] = rows.list
        .filter((r) => !(dedupe && this.provenanceSeen.has(r.id)))
        .map((r) => ({ text: transform(r.content), about: r.about }));
      await this.writer('output', type).write(lines);
      this.written += lines.length;
      if (this.plan.provenance !== 'none' && type !== 'Provenance') {
        await this.associatedProvenance(
          type,
          rows.list.map((r) => r.id),
          access
        );
      }
      await this.checkpoint(type, page);
      if (!more) {
        return;
      }
    }
  }

  /** The query of a page after `after`, with the caller's policy rebuilt now, and its rendered text as a key. */
  private async pageQuery(type: string, after: string): Promise<{ query: Sql; access: AccessPolicy; key: string }> {
    const access = await this.policy();
    const { filter, ignored } = compileTypeFilter(
      contextOf(this.deps, access, !this.job.params.lenient),
      type,
      this.job.params.typeFilters,
      this.job.params.lenient
    );
    if (after === '' && !this.typeFilterNoted.has(type)) {
      this.typeFilterNoted.add(type);
      this.messages.push(...ignored.map((i) => `_typeFilter parameter ${i} is not supported and was ignored`));
    }
    const query = versionsPageQuery({
      type,
      at: this.at,
      since: this.job.params.since,
      after,
      limit: this.deps.config.pageSize,
      access,
      filter,
      patients: this.patients,
    });
    return { query, access, key: JSON.stringify(query.toQuery()) };
  }

  private async readPage(
    type: string,
    after: string,
    built?: { query: Sql; access: AccessPolicy; key: string }
  ): Promise<{ rows: { after: string; list: VersionRow[] }; access: AccessPolicy; key: string }> {
    const { query, access, key } = built ?? (await this.pageQuery(type, after));
    const list = await this.deps.db.query<VersionRow>(query);
    return { rows: { after, list }, access, key };
  }

  private async associatedProvenance(type: string, ids: string[], access: AccessPolicy): Promise<void> {
    const targetRows = this.deps.searchParams.referenceRows('Provenance', 'target');
    if (!targetRows) {
      return;
    }
    const rows = await provenanceFor(this.deps.db, {
      targets: { type, ids },
      at: this.at,
      access,
      targetRows,
      latest: this.plan.provenance === 'latest',
    });
    const fresh = rows.filter((r) => !this.provenanceSeen.has(r.id));
    fresh.forEach((r) => this.provenanceSeen.add(r.id));
    const transform = lineTransform('Provenance', this.job.params.elements, this.deps.baseUrl);
    await this.writer('output', 'Provenance').write(fresh.map((r) => ({ text: transform(r.content), about: r.about })));
    this.written += fresh.length;
  }

  /** `deleted[]`: one transaction Bundle per deleted resource, its one entry a DELETE of it. */
  private async exportDeleted(type: string, since: string): Promise<void> {
    if ((Array.isArray(this.patients) && this.patients.length === 0) || !this.present.has(type)) {
      return;
    }
    let after = '';
    for (let page = 1; ; page++) {
      const access = await this.policy();
      const rows = await deletedPage(this.deps.db, {
        type,
        at: this.at,
        since,
        after,
        limit: this.deps.config.pageSize,
        access,
        patients: this.patients,
      });
      await this.writer('deleted', 'Bundle').write(
        rows.map((r) => ({
          text: JSON.stringify({
            resourceType: 'Bundle',
            type: 'transaction',
            meta: { lastUpdated: r.last_updated },
            entry: [{ request: { method: 'DELETE', url: `${type}/${r.id}` } }],
          }),
        }))
      );
      await this.checkpoint(type, page);
      const last = rows[rows.length - 1];
      if (!last || rows.length < this.deps.config.pageSize) {
        return;
      }
      after = last.id;
    }
  }

  /** The kick-off's warnings and the run's own notes, as OperationOutcome lines of the error file. */
  private async writeMessages(): Promise<void> {
    const all = [...this.job.warnings, ...this.messages];
    const outcomes: OperationOutcome[] = all.map((text) => ({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'warning', code: 'informational', details: { text } }],
    }));
    await this.writer('error', 'OperationOutcome').write(outcomes.map((o) => ({ text: JSON.stringify(o) })));
  }
}
