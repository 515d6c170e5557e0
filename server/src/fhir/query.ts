import { getSearchParams, isResourceType } from './definitions';

/**
 * Rewrites reference type modifiers (`subject:Patient=123` → `subject=Patient/123`), which
 * @medplum/core's parser would otherwise drop, before the query reaches the search parser.
 */
export function normalizeQuery(
  resourceType: string | undefined,
  query: Record<string, string | string[] | undefined>
): Record<string, string | string[]> {
  // No prototype: a parameter named `constructor` must not find Object.prototype's as an earlier value.
  const out = Object.create(null) as Record<string, string | string[]>;
  const params = resourceType && isResourceType(resourceType) ? getSearchParams(resourceType) : {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) {
      continue;
    }
    const m = /^([^:.]+):([A-Z][A-Za-z]+)$/.exec(key);
    const param = m?.[1] ? params[m[1]] : undefined;
    if (m?.[1] && m[2] && param?.type === 'reference' && isResourceType(m[2])) {
      const type = m[2];
      const prefix = (v: string): string =>
        v
          .split(',')
          .map((alt) => (alt.includes('/') ? alt : `${type}/${alt}`))
          .join(',');
      const rewritten = Array.isArray(value) ? value.map(prefix) : prefix(value);
      const existing = out[m[1]];
      out[m[1]] = existing === undefined ? rewritten : [existing, rewritten].flat();
      continue;
    }
    const existing = out[key];
    out[key] = existing === undefined ? value : [existing, value].flat();
  }
  return out;
}
