import type { CategoryCoding } from './categories';
import { CATEGORY_DEFINITIONS, PATIENT_ONLY_TYPES } from './categories';
import type { CategorySelector, Criteria, RuleNode, Window } from './model';
import { covers } from './model';
import { DATA_SHARING_REQUEST, TASK_CODE_SYSTEM } from './vocabulary';

/**
 * A Consent rule as a small boolean expression over one resource version. The same expression is
 * rendered to SQL for reads (rules-sql.ts) and evaluated in memory for writes (evaluate below),
 * so what a caller may read and what they may write are decided by one definition.
 */
export type Expr =
  | { k: 'const'; value: boolean }
  | { k: 'and' | 'or'; xs: Expr[] }
  | { k: 'not'; x: Expr }
  | { k: 'type'; types: string[] }
  | { k: 'obs-category'; codings: CategoryCoding[] }
  /** A Task that is a provider's data-sharing request ($request-share). */
  | { k: 'sharing-request' }
  | { k: 'security'; labels: { system?: string; code: string }[] }
  | { k: 'date'; window: Window }
  | { k: 'instance'; keys: string[] };

export const TRUE: Expr = { k: 'const', value: true };
export const FALSE: Expr = { k: 'const', value: false };

export function and(xs: Expr[]): Expr {
  const kept: Expr[] = [];
  for (const x of xs) {
    if (x.k === 'const') {
      if (!x.value) {
        return FALSE;
      }
      continue;
    }
    kept.push(x);
  }
  return kept.length === 0 ? TRUE : kept.length === 1 ? (kept[0] as Expr) : { k: 'and', xs: kept };
}

export function or(xs: Expr[]): Expr {
  const kept: Expr[] = [];
  for (const x of xs) {
    if (x.k === 'const') {
      if (x.value) {
        return TRUE;
      }
      continue;
    }
    kept.push(x);
  }
  return kept.length === 0 ? FALSE : kept.length === 1 ? (kept[0] as Expr) : { k: 'or', xs: kept };
}

export function not(x: Expr): Expr {
  return x.k === 'const' ? { k: 'const', value: !x.value } : x.k === 'not' ? x.x : { k: 'not', x };
}

/** Folds what is known of the row (its type) into constants. */
function ofType(types: string[], rowType: string | undefined): Expr {
  return rowType === undefined ? { k: 'type', types } : { k: 'const', value: types.includes(rowType) };
}

function isPatient(rowType: string | undefined): Expr {
  return ofType(['Patient'], rowType);
}

function selectorExpr(s: CategorySelector, rowType: string | undefined): Expr {
  if (s.kind === 'type') {
    return ofType([s.type], rowType);
  }
  if (s.kind === 'observation-category') {
    return and([ofType(['Observation'], rowType), { k: 'obs-category', codings: [s.coding] }]);
  }
  if (s.category === 'all') {
    return TRUE; // what no grant shares is excluded once, for every grant (patientOnly)
  }
  const def = CATEGORY_DEFINITIONS[s.category];
  return or([
    ofType([...def.types], rowType),
    def.observationCategories.length
      ? and([ofType(['Observation'], rowType), { k: 'obs-category', codings: [...def.observationCategories] }])
      : FALSE,
  ]);
}

/**
 * M(node): the provision's criteria. `inPermit` decides what an unknown criterion means. The Patient
 * resource matches any category, data period and instance list (who the data is about is part of any share).
 */
function matches(c: Criteria, rowType: string | undefined, inPermit: boolean): Expr {
  if (c.unknown) {
    return inPermit ? FALSE : TRUE;
  }
  const parts: Expr[] = [];
  if (c.categories) {
    parts.push(or([isPatient(rowType), ...c.categories.map((s) => selectorExpr(s, rowType))]));
  }
  if (c.securityLabels) {
    parts.push({ k: 'security', labels: c.securityLabels });
  }
  if (c.dataPeriod) {
    parts.push(or([isPatient(rowType), { k: 'date', window: c.dataPeriod }]));
  }
  if (c.instances) {
    parts.push(or([isPatient(rowType), { k: 'instance', keys: c.instances }]));
  }
  return and(parts);
}

/** P(node): a permit decides "allowed" for the row unless a more specific provision decides otherwise. */
function permitted(node: RuleNode, rowType: string | undefined): Expr {
  const denies = or(node.children.filter((c) => !c.permit).map((c) => denied(c, rowType)));
  const base = node.permit ? TRUE : or(node.children.filter((c) => c.permit).map((c) => permitted(c, rowType)));
  return and([matches(node.criteria, rowType, node.permit), base, not(denies)]);
}

/** D(node): a deny decides "hidden" for the rows it matches, except where a nested permit re-allows. */
function denied(node: RuleNode, rowType: string | undefined): Expr {
  const permits = or(node.children.filter((c) => c.permit).map((c) => permitted(c, rowType)));
  return and([matches(node.criteria, rowType, false), not(permits)]);
}

/** The root rule as an expression over rows of `rowType` (undefined: rows of any type). */
export function ruleExpr(root: RuleNode, rowType: string | undefined): Expr {
  return permitted(root, rowType);
}

/**
 * What no Consent shares, only the patient (and a guardian): their access log, their Consents, and
 * the data-sharing requests providers sent them (which would tell one provider about another).
 */
export function patientOnly(rowType: string | undefined): Expr {
  return or([ofType([...PATIENT_ONLY_TYPES], rowType), and([ofType(['Task'], rowType), { k: 'sharing-request' }])]);
}

/**
 * Drops nested provisions that do not apply to this request: outside their period, naming other
 * actors, or naming other actions.
 */
export function pruneRule(node: RuleNode, now: number, callerKeys: ReadonlySet<string>, action: string[]): RuleNode {
  return {
    ...node,
    children: node.children
      .filter(
        (c) =>
          (!c.period || covers(c.period, now)) &&
          (!c.actorKeys || c.actorKeys.some((k) => callerKeys.has(k))) &&
          (!c.actions || c.actions.some((a) => action.includes(a)))
      )
      .map((c) => pruneRule(c, now, callerKeys, action)),
  };
}

/** The facts of one resource version an expression can test (writes are checked in memory). */
export interface RowFacts {
  type: string;
  id: string;
  versionId: string;
  observationCategories: { system: string | null; code: string | null }[];
  /** Task.code codings (data-sharing requests are the patient's, whatever is shared). */
  taskCodes: { system: string | null; code: string | null }[];
  security: { system: string | null; code: string | null }[];
  /** Clinical dates (or lastUpdated for undated types) as epoch-ms ranges. */
  dates: { low: number; high: number }[];
}

export function evaluate(e: Expr, f: RowFacts): boolean {
  switch (e.k) {
    case 'const':
      return e.value;
    case 'and':
      return e.xs.every((x) => evaluate(x, f));
    case 'or':
      return e.xs.some((x) => evaluate(x, f));
    case 'not':
      return !evaluate(e.x, f);
    case 'type':
      return e.types.includes(f.type);
    case 'obs-category':
      return f.observationCategories.some((t) => e.codings.some((c) => c.system === t.system && c.code === t.code));
    case 'sharing-request':
      return (
        f.type === 'Task' && f.taskCodes.some((t) => t.system === TASK_CODE_SYSTEM && t.code === DATA_SHARING_REQUEST)
      );
    case 'security':
      return f.security.some((t) => e.labels.some((l) => l.code === t.code && (!l.system || l.system === t.system)));
    case 'date':
      return f.dates.some(
        (d) =>
          (e.window.end === undefined || d.low <= e.window.end) &&
          (e.window.start === undefined || d.high >= e.window.start)
      );
    case 'instance':
      return e.keys.includes(`${f.type}/${f.id}`) || e.keys.includes(`${f.type}/${f.id}/_history/${f.versionId}`);
  }
}
