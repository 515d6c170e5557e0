import type { Queryable } from '../db/database';
import type { Sql } from '../db/sql';
import { and, raw, sql } from '../db/sql';
import type { AccessPolicy } from '../storage/access';
import { accessClause } from '../storage/read';
import { referenceRowTest } from '../storage/search/reference';

/**
 * The export's snapshot, without a long transaction: every query is bounded by `at` (the
 * transactionTime, or _until when earlier) and reads, for each resource, the version current at
 * that instant — the current row when it was last written at or before `at`, else its latest
 * history version at or before `at`. History is append-only, so the same bound gives the same rows
 * in every page and in a restarted attempt. Pages are keyset pages on (type, id), the order of the
 * unique index, so each is one short query and memory stays flat.
 */
export interface SnapshotPage {
  type: string;
  at: string;
  since?: string;
  /** Keyset: ids after this one. */
  after: string;
  limit: number;
  /** The caller's policy for this page (rebuilt per page). */
  access: AccessPolicy;
  /** The `_typeFilter` queries of the type (ORed), compiled by the search compiler over alias `r`. */
  filter?: Sql;
  /** Patient/Group level: the patients whose compartments are exported ('any': any patient's). */
  patients?: readonly string[] | 'any';
}

export interface VersionRow {
  id: string;
  content: string;
  /** Whom the version is about (the first of its compartments), for the download audit. */
  about: string | null;
}

export interface DeletedRow {
  id: string;
  last_updated: string;
}

function inCompartments(alias: string, patients: SnapshotPage['patients']): Sql | undefined {
  if (patients === undefined) {
    return undefined;
  }
  const a = raw(alias);
  return patients === 'any' ? sql`${a}.compartments <> '{}'` : sql`${a}.compartments && ${patients}::text[]`;
}

/** The latest history version of `r` at or before the snapshot. */
function versionAt(at: string): Sql {
  return sql`JOIN LATERAL (SELECT hh.rid, hh.type, hh.id, hh.version_id, hh.last_updated, hh.deleted,
      hh.compartments, hh.content FROM resource_history hh
    WHERE hh.rid = r.rid AND hh.last_updated <= ${at}::timestamptz ORDER BY hh.version_id DESC LIMIT 1) h ON true`;
}

/** The query of one page of the versions of `type` current at the snapshot that the caller may read and the filter matches. */
export function versionsPageQuery(p: SnapshotPage): Sql {
  const current = and(
    [
      sql`r.type = ${p.type}`,
      sql`r.id > ${p.after}`,
      sql`r.last_updated <= ${p.at}::timestamptz`,
      sql`NOT r.deleted`,
      p.since ? sql`r.last_updated > ${p.since}::timestamptz` : undefined,
      p.filter,
      inCompartments('r', p.patients),
      accessClause(p.access, 'r', p.type),
    ].filter((x): x is Sql => x !== undefined)
  );
  // Changed after the snapshot: the older version is exported, judged by the policy as a history
  // row (its own JSON, and only while the current version is visible too: docs/consent.md).
  const older = and(
    [
      sql`r.type = ${p.type}`,
      sql`r.id > ${p.after}`,
      sql`r.last_updated > ${p.at}::timestamptz`,
      sql`NOT h.deleted`,
      p.since ? sql`h.last_updated > ${p.since}::timestamptz` : undefined,
      p.filter,
      inCompartments('h', p.patients),
      accessClause(p.access, 'h', p.type, true),
    ].filter((x): x is Sql => x !== undefined)
  );
  return sql`SELECT id, content, about FROM (
      (SELECT r.id, r.content, r.compartments[1] AS about FROM resource r WHERE ${current} ORDER BY r.id LIMIT ${p.limit})
      UNION ALL
      (SELECT r.id, h.content, h.compartments[1] AS about FROM resource r ${versionAt(p.at)}
        WHERE ${older} ORDER BY r.id LIMIT ${p.limit})
    ) v ORDER BY id LIMIT ${p.limit}`;
}

/** Of these types, those with a row in `resource` at all (current or deleted): the others have nothing to export. */
export async function typesWithRows(db: Queryable, types: readonly string[]): Promise<Set<string>> {
  const rows = await db.query<{ type: string }>(sql`SELECT t AS type FROM unnest(${types}::text[]) AS t
    WHERE EXISTS (SELECT 1 FROM resource r WHERE r.type = t)`);
  return new Set(rows.map((r) => r.type));
}

/**
 * One page of the resources of `type` deleted between _since and the snapshot, as far as the policy
 * shows deletions (a deletion keeps the compartments of the version it deleted, but not its index
 * rows: a grant that tests categories or dates does not show it). `_typeFilter` cannot be tested on
 * a deletion and does not narrow this list.
 */
export async function deletedPage(
  db: Queryable,
  p: Omit<SnapshotPage, 'filter'> & { since: string }
): Promise<DeletedRow[]> {
  const current = and(
    [
      sql`r.type = ${p.type}`,
      sql`r.id > ${p.after}`,
      sql`r.deleted`,
      sql`r.last_updated > ${p.since}::timestamptz`,
      sql`r.last_updated <= ${p.at}::timestamptz`,
      inCompartments('r', p.patients),
      accessClause(p.access, 'r', p.type),
    ].filter((x): x is Sql => x !== undefined)
  );
  const older = and(
    [
      sql`r.type = ${p.type}`,
      sql`r.id > ${p.after}`,
      sql`r.last_updated > ${p.at}::timestamptz`,
      sql`h.deleted`,
      sql`h.last_updated > ${p.since}::timestamptz`,
      inCompartments('h', p.patients),
      accessClause(p.access, 'h', p.type, true),
    ].filter((x): x is Sql => x !== undefined)
  );
  return db.query<DeletedRow>(sql`SELECT id, last_updated FROM (
      (SELECT r.id, to_json(r.last_updated) #>> '{}' AS last_updated FROM resource r WHERE ${current}
        ORDER BY r.id LIMIT ${p.limit})
      UNION ALL
      (SELECT r.id, to_json(h.last_updated) #>> '{}' AS last_updated FROM resource r ${versionAt(p.at)}
        WHERE ${older} ORDER BY r.id LIMIT ${p.limit})
    ) v ORDER BY id LIMIT ${p.limit}`);
}

export interface ProvenanceRow extends VersionRow {
  rid: string;
}

/**
 * The Provenance resources whose target is one of these resources (the current version, written at
 * or before the snapshot, that the caller may read): all of them, or for each target only the
 * latest (includeAssociatedData=LatestProvenanceResources).
 */
export async function provenanceFor(
  db: Queryable,
  q: {
    targets: { type: string; ids: readonly string[] };
    at: string;
    access: AccessPolicy;
    targetRows: { sp: number; targetType?: string };
    latest: boolean;
  }
): Promise<ProvenanceRow[]> {
  if (q.targets.ids.length === 0) {
    return [];
  }
  const where = sql`${referenceRowTest('i', q.targetRows)} AND i.target_type = ${q.targets.type}
    AND i.target_id = ANY(${q.targets.ids}::text[]) AND p.type = 'Provenance' AND NOT p.deleted
    AND p.last_updated <= ${q.at}::timestamptz AND ${accessClause(q.access, 'p', 'Provenance')}`;
  if (q.latest) {
    return db.query<ProvenanceRow>(sql`SELECT DISTINCT ON (i.target_id) p.rid, p.id, p.content, p.compartments[1] AS about
      FROM idx_reference i JOIN resource p ON p.rid = i.rid WHERE ${where}
      ORDER BY i.target_id, p.last_updated DESC, p.id`);
  }
  return db.query<ProvenanceRow>(sql`SELECT DISTINCT p.rid, p.id, p.content, p.compartments[1] AS about
    FROM idx_reference i JOIN resource p ON p.rid = i.rid WHERE ${where}`);
}

/** Of these patient ids, those whose Patient resource the policy shows (Group members, the `patient` parameter). */
export async function visiblePatients(db: Queryable, access: AccessPolicy, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) {
    return [];
  }
  const rows = await db.query<{ id: string }>(sql`SELECT r.id FROM resource r
    WHERE r.type = 'Patient' AND r.id = ANY(${ids}::text[]) AND NOT r.deleted AND ${accessClause(access, 'r', 'Patient')}`);
  const found = new Set(rows.map((r) => r.id));
  return ids.filter((id) => found.has(id));
}
