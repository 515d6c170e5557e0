import { isResourceType } from '../../fhir/definitions';

export type Permission = 'c' | 'r' | 'u' | 'd' | 's';
export type ScopeContext = 'patient' | 'user' | 'system';

/** A SMART resource scope, v1 (`patient/*.read`) or v2 (`patient/Observation.rs?category=…`), parsed. */
export interface ResourceScope {
  context: ScopeContext;
  /** A resource type, or '*' for all. */
  resourceType: string;
  permissions: Set<Permission>;
  /** Granular restriction (v2 only): search parameters the resources must match, in request order. */
  params?: [string, string][];
}

/** The scopes that are not about FHIR resources: identity, launch context and refresh. */
export const CONTEXT_SCOPES = [
  'openid',
  'fhirUser',
  'profile',
  'launch',
  'launch/patient',
  'launch/encounter',
  'offline_access',
  'online_access',
] as const;
export type ContextScope = (typeof CONTEXT_SCOPES)[number];

export type ParsedScope = { scope: string; resource: ResourceScope } | { scope: string; context: ContextScope };

export interface ParsedScopes {
  resources: ResourceScope[];
  context: Set<ContextScope>;
  /** The recognised scope strings, deduplicated, in request order (unknown ones are dropped). */
  scopes: string[];
}

const CONTEXT_SET: ReadonlySet<string> = new Set(CONTEXT_SCOPES);
const RESOURCE_SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]*)\.([a-z*]+)(?:\?(.*))?$/;
const V1_ACTIONS: Record<string, Permission[]> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': ['c', 'r', 'u', 'd', 's'],
};
// v2 permissions are a non-empty subsequence of "cruds", in that order.
const V2_ACTION = /^(?=.)c?r?u?d?s?$/;

/** Parses one resource scope; undefined when it is not a well-formed SMART v1 or v2 resource scope. */
export function parseResourceScope(scope: string): ResourceScope | undefined {
  const m = RESOURCE_SCOPE.exec(scope);
  if (!m) {
    return undefined;
  }
  const [, context, resourceType, action, query] = m as unknown as [string, ScopeContext, string, string, string?];
  if (resourceType !== '*' && !isResourceType(resourceType)) {
    return undefined;
  }
  const v1 = V1_ACTIONS[action];
  if (v1) {
    // Granular restrictions exist only in v2 syntax.
    return query === undefined ? { context, resourceType, permissions: new Set(v1) } : undefined;
  }
  if (!V2_ACTION.test(action)) {
    return undefined;
  }
  const permissions = new Set(action.split('') as Permission[]);
  if (query === undefined) {
    return { context, resourceType, permissions };
  }
  const params = parseRestriction(query);
  return params ? { context, resourceType, permissions, params } : undefined;
}

function parseRestriction(query: string): [string, string][] | undefined {
  const params: [string, string][] = [];
  for (const [code, value] of new URLSearchParams(query)) {
    if (!/^[A-Za-z_][A-Za-z0-9_:.-]*$/.test(code) || value === '') {
      return undefined;
    }
    params.push([code, value]);
  }
  return params.length > 0 ? params : undefined;
}

/** Parses one scope string; undefined for scopes Hale does not know (which SMART says to ignore). */
export function parseScope(scope: string): ParsedScope | undefined {
  if (CONTEXT_SET.has(scope)) {
    return { scope, context: scope as ContextScope };
  }
  const resource = parseResourceScope(scope);
  return resource ? { scope, resource } : undefined;
}

/** Parses a space-separated scope parameter, dropping unknown scopes and duplicates. */
export function parseScopes(scope: string | readonly string[]): ParsedScopes {
  const list = typeof scope === 'string' ? scope.split(' ') : scope;
  const out: ParsedScopes = { resources: [], context: new Set(), scopes: [] };
  const seen = new Set<string>();
  for (const s of list) {
    const parsed = s && !seen.has(s) ? parseScope(s) : undefined;
    if (!parsed) {
      continue;
    }
    seen.add(s);
    out.scopes.push(s);
    if ('resource' in parsed) {
      out.resources.push(parsed.resource);
    } else {
      out.context.add(parsed.context);
    }
  }
  return out;
}

/**
 * Whether `granted` allows everything `requested` asks for: the same context, the same type
 * or '*', no permission beyond the granted ones, and at least the granted restrictions.
 */
export function resourceScopeCovers(granted: ResourceScope, requested: ResourceScope): boolean {
  if (granted.context !== requested.context) {
    return false;
  }
  if (granted.resourceType !== '*' && granted.resourceType !== requested.resourceType) {
    return false;
  }
  if ([...requested.permissions].some((p) => !granted.permissions.has(p))) {
    return false;
  }
  return (granted.params ?? []).every(([code, value]) =>
    (requested.params ?? []).some(([c, v]) => c === code && v === value)
  );
}

/** Whether one scope string is allowed by a list of granted (or allowed) scope strings. */
export function scopeCovered(scope: string, granted: readonly string[]): boolean {
  const parsed = parseScope(scope);
  if (!parsed) {
    return false;
  }
  if ('context' in parsed) {
    return granted.includes(scope);
  }
  return granted.some((g) => {
    const r = parseResourceScope(g);
    return r !== undefined && resourceScopeCovers(r, parsed.resource);
  });
}

/**
 * The scopes that may be granted: the recognised requested scopes that the allowed list
 * covers, in request order, keeping the client's own spelling (a v1 request gets v1 scopes back).
 */
export function allowedSubset(requested: string | readonly string[], allowed: readonly string[]): string[] {
  return parseScopes(requested).scopes.filter((s) => scopeCovered(s, allowed));
}

/** Whether a scope list includes any `patient/` resource scope (which needs a patient in context). */
export function hasPatientScopes(scopes: readonly string[]): boolean {
  return parseScopes(scopes).resources.some((r) => r.context === 'patient');
}
