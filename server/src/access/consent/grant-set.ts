import type { Sql } from '../../db/sql';
import { and, or, raw, sql } from '../../db/sql';
import type { IndexRows } from '../../storage/indexer';
import { referenceRowTest } from '../../storage/search/reference';
import type { SearchParamRegistry } from '../../storage/search-params';
import { CATEGORY_DEFINITIONS, CLINICAL_DATE_PARAMS } from './categories';
import type { Expr, RowFacts } from './expr';
import { and as andE, evaluate, FALSE, not as notE, patientOnly, pruneRule, ruleExpr, TRUE } from './expr';
import type { Grant, RuleNode } from './model';
import { covers } from './model';
import type { Category } from './vocabulary';
import { renderExpr } from './rules-sql';

const READ = ['access', 'use', 'disclose'];
const WRITE = ['correct'];
/** Types a provider never writes into a patient's record, whatever the grant: the patient's own decisions and log. */
const NEVER_WRITTEN_BY_GRANTEES = new Set(['Patient', 'Consent', 'CareTeam', 'AuditEvent']);

/**
 * The grants in force for one request (valid at `now`), compiled on demand into SQL predicates
 * for reads and checked in memory for writes. Grants with the same effective rule are merged
 * into one `compartments && ARRAY[...]` test, so a provider with hundreds of patients still gets
 * a small predicate.
 */
export class GrantSet {
  readonly grants: readonly Grant[];
  /** Set by forPatient: the caller's own requests are limited to that patient too. */
  private onlyPatient?: string;

  constructor(
    grants: readonly Grant[],
    private readonly keys: ReadonlySet<string>,
    private readonly now: number,
    private readonly searchParams: SearchParamRegistry
  ) {
    this.grants = grants.filter((g) => covers(g.valid, now));
  }

  /** The same grants limited to one patient (a patient/ scope's launch context). */
  forPatient(patientId: string): GrantSet {
    const set = new GrantSet(
      this.grants.filter((g) => g.patientId === patientId),
      this.keys,
      this.now,
      this.searchParams
    );
    set.onlyPatient = patientId;
    return set;
  }

  /**
   * The data-sharing requests ($request-share Tasks) the caller made: readable by their requester
   * without any grant, so a provider can follow what they asked for. Undefined for other types.
   */
  ownRequestsPredicate(alias: string, rowType: string | undefined, history: boolean): Sql | undefined {
    const keys = [...this.keys].filter((k) => !k.startsWith('client:'));
    if (keys.length === 0 || (rowType !== undefined && rowType !== 'Task')) {
      return undefined;
    }
    const a = raw(alias);
    const isRequest = renderExpr(
      { k: 'sharing-request' },
      { alias, history, rowType: 'Task', searchParams: this.searchParams }
    );
    return and([
      sql`${a}.type = 'Task'`,
      this.onlyPatient ? sql`${a}.compartments @> ARRAY[${this.onlyPatient}]::text[]` : sql`TRUE`,
      isRequest,
      history
        ? sql`${a}.content::jsonb #>> '{requester,reference}' = ANY(${keys}::text[])`
        : sql`EXISTS (SELECT 1 FROM idx_reference rr WHERE rr.rid = ${a}.rid
              AND ${referenceRowTest('rr', this.searchParams.referenceRows('Task', 'requester') ?? { sp: -1 })}
              AND rr.target_type || '/' || rr.target_id = ANY(${keys}::text[]))`,
    ]);
  }

  get empty(): boolean {
    return this.grants.length === 0;
  }

  patientIds(): string[] {
    return [...new Set(this.grants.map((g) => g.patientId))];
  }

  /** For the audit trail: the grants that cover these patients. */
  basisFor(patientIds: readonly string[]): string[] {
    return this.grants.filter((g) => patientIds.includes(g.patientId)).map((g) => g.basis);
  }

  private expr(g: Grant, rowType: string | undefined, actions: string[]): Expr {
    if (g.full && g.patientOnly) {
      return TRUE; // a guardian acts as the patient
    }
    // Whatever a Consent shares (and break-glass), the patient's log, Consents and requests stay theirs.
    const shareable = notE(patientOnly(rowType));
    if (g.full) {
      return shareable;
    }
    if (!g.rule) {
      return FALSE;
    }
    return andE([shareable, ruleExpr(pruneRule(g.rule, this.now, this.keys, actions), rowType)]);
  }

  /**
   * Predicate over a resource / resource_history row: about a granted patient and allowed by that
   * patient's grant. A row is about the first patient of its compartments (the subject, patient or
   * beneficiary: storage/indexer/compartments.ts); naming a patient elsewhere (a performer, an
   * author) puts it in their compartment for their own reads, but releases it under no grant of theirs.
   * An older version (`history`: the alias may be a resource_history row) is shown only while the
   * resource's current version is too, unless a grant names that very version (docs/consent.md).
   * `series`: the alias is a measurement_series row (storage/access.ts ReadHint.row), current by construction.
   */
  readPredicate(
    alias: string,
    rowType: string | undefined,
    history: boolean,
    onlyPatients?: readonly string[],
    series = false
  ): Sql {
    const grants = this.grants.filter((x) => x.read && (!onlyPatients || onlyPatients.includes(x.patientId)));
    const groups = this.readGroups(grants, rowType);
    const version = this.versionPredicate(alias, rowType, history, groups, series);
    if (!history || groups.length === 0) {
      return version;
    }
    const now = `${alias}_now`;
    const current = sql`EXISTS (SELECT 1 FROM resource ${raw(now)} WHERE ${raw(now)}.rid = ${raw(alias)}.rid
      AND ${this.versionPredicate(now, rowType, false, groups)})`;
    return and([version, or([current, ...pinnedVersions(alias, grants, this.now, this.keys)])]);
  }

  /** The read grants by effective rule, so a provider with hundreds of patients gets one branch per rule. */
  private readGroups(grants: readonly Grant[], rowType: string | undefined): { expr: Expr; patients: string[] }[] {
    const groups = new Map<string, { expr: Expr; patients: Set<string> }>();
    for (const g of grants) {
      const expr = this.expr(g, rowType, READ);
      if (expr.k === 'const' && !expr.value) {
        continue;
      }
      const key = JSON.stringify(expr);
      const group = groups.get(key) ?? { expr, patients: new Set<string>() };
      group.patients.add(g.patientId);
      groups.set(key, group);
    }
    return [...groups.values()].map(({ expr, patients }) => ({ expr, patients: [...patients] }));
  }

  private versionPredicate(
    alias: string,
    rowType: string | undefined,
    history: boolean,
    groups: readonly { expr: Expr; patients: string[] }[],
    series = false
  ): Sql {
    const a = raw(alias);
    const target = { alias, history, rowType, searchParams: this.searchParams, series };
    const branches = groups.map(({ expr, patients }) =>
      and([sql`${a}.compartments[1] = ANY(${patients}::text[])`, renderExpr(expr, target)])
    );
    if (branches.length === 0) {
      return sql`FALSE`;
    }
    // The union of the groups' patients up front: one condition the GIN index on compartments
    // answers, which the planner can start from; the first element is then checked on what it finds.
    const all = [...new Set(groups.flatMap((g) => g.patients))];
    return and([sql`${a}.compartments && ${all}::text[]`, or(branches)]);
  }

  /**
   * A grantee's write: for every one of these patients, a write grant of that patient must allow
   * this version — a grant for one patient never covers another named in the same version. False
   * for no patients (a version in no record is no grantee's to write). `factsOf` is undefined when
   * only the stored version's compartments are known (updates and deletes check the new version
   * separately).
   */
  canWrite(resourceType: string, patientIds: readonly string[], factsOf: () => RowFacts | undefined): boolean {
    let facts: RowFacts | undefined | null = null; // computed once, and only if a write grant is in reach
    const allows = (g: Grant): boolean => {
      if (g.full && g.patientOnly) {
        return true; // a guardian acts as the patient
      }
      if (NEVER_WRITTEN_BY_GRANTEES.has(resourceType)) {
        return false;
      }
      const expr = this.expr(g, resourceType, WRITE);
      if (facts === null) {
        facts = factsOf();
      }
      return facts === undefined ? !(expr.k === 'const' && !expr.value) : evaluate(expr, facts);
    };
    return (
      patientIds.length > 0 &&
      patientIds.every((p) => this.grants.some((g) => g.write && g.patientId === p && allows(g)))
    );
  }

  /**
   * Whether some read grant of this patient shares any of a sharing category: its sample resource (a
   * representative type or Observation category, unlabelled, dated at any time) passes a grant's rule. A
   * grant of a past data period shares the category; one naming only particular resources does not.
   */
  sharesCategory(patientId: string, category: Exclude<Category, 'all'>): boolean {
    const def = CATEGORY_DEFINITIONS[category];
    const observation = def.observationCategories[0];
    const type = observation ? 'Observation' : (def.types[0] ?? '');
    const facts: RowFacts = {
      type,
      id: '',
      versionId: '',
      observationCategories: observation ? [observation] : [],
      taskCodes: [],
      security: [],
      dates: [{ low: -Infinity, high: Infinity }],
    };
    return this.grants.some((g) => g.read && g.patientId === patientId && evaluate(this.expr(g, type, READ), facts));
  }

  /** True when the caller may delete in every one of these patients' records (only a guardian acting as the patient). */
  canDelete(patientIds: readonly string[]): boolean {
    return (
      patientIds.length > 0 &&
      patientIds.every((p) => this.grants.some((g) => g.write && g.full && g.patientOnly && g.patientId === p))
    );
  }
}

/** The facts an expression tests, from a version's index rows (writes). */
export function factsOfRows(
  type: string,
  id: string,
  versionId: string,
  rows: IndexRows,
  searchParams: SearchParamRegistry,
  lastUpdated: number
): RowFacts {
  const categorySp = searchParams.id('Observation', 'category');
  const taskCodeSp = searchParams.id('Task', 'code');
  const securitySp = searchParams.id(type, '_security');
  const dateCode = CLINICAL_DATE_PARAMS[type];
  const dateSp = dateCode ? searchParams.id(type, dateCode) : undefined;
  return {
    type,
    id,
    versionId,
    observationCategories: type === 'Observation' ? rows.token.filter((t) => t.sp === categorySp) : [],
    taskCodes: type === 'Task' ? rows.token.filter((t) => t.sp === taskCodeSp) : [],
    security: rows.token.filter((t) => t.sp === securitySp),
    dates: dateCode
      ? rows.date.filter((d) => d.sp === dateSp).map((d) => ({ low: toMs(d.low), high: toMs(d.high) }))
      : [{ low: lastUpdated, high: lastUpdated }],
  };
}

function toMs(iso: string): number {
  return iso === '-infinity' ? -Infinity : iso === 'infinity' ? Infinity : Date.parse(iso);
}

/**
 * The versions a patient shared by naming them (`provision.data` = Type/id/_history/n in a permit):
 * a snapshot stays visible after the resource moves on, where other old versions follow the current one.
 */
function pinnedVersions(alias: string, grants: readonly Grant[], now: number, keys: ReadonlySet<string>): Sql[] {
  const a = raw(alias);
  const byPatient = new Map<string, Set<string>>();
  const collect = (node: RuleNode, patientId: string): void => {
    for (const key of node.permit ? (node.criteria.instances ?? []) : []) {
      if (key.includes('/_history/')) {
        byPatient.set(patientId, (byPatient.get(patientId) ?? new Set()).add(key));
      }
    }
    node.children.forEach((c) => collect(c, patientId));
  };
  for (const g of grants) {
    if (g.rule && !g.full) {
      collect(pruneRule(g.rule, now, keys, READ), g.patientId);
    }
  }
  return [...byPatient].map(
    ([patientId, versions]) => sql`(${a}.compartments[1] = ${patientId}
      AND ${a}.type || '/' || ${a}.id || '/_history/' || ${a}.version_id = ANY(${[...versions]}::text[]))`
  );
}
