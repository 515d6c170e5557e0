import type { TypedValueWithPath } from '@medplum/core';
import type { CodeableConcept, Coding, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { ValueSetExpansion } from './terminology';
import { canonicalUrl, expandValueSet } from './terminology';

/**
 * Values of elements with a required binding, keyed by ValueSet URL, exactly as @medplum/core's validator
 * collects them (`validateResource(r, { collect: { tokens } })`). Reusing its traversal means the binding
 * check costs a Set lookup per coded value instead of a second walk over the resource.
 */
export type BindingTokens = Record<string, TypedValueWithPath[]>;

/** Checks every collected value against its required ValueSet; returns one 'code-invalid' issue per bad value. */
export function checkRequiredBindings(tokens: BindingTokens): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const [url, values] of Object.entries(tokens)) {
    const expansion = expandValueSet(url);
    // A ValueSet we cannot expand completely (filters, SNOMED CT, LOINC, ...) is skipped: never a false rejection.
    if (!expansion) {
      continue;
    }
    for (const value of values) {
      const problem = bindingProblem(value.type, value.value, expansion);
      if (problem) {
        issues.push(bindingIssue(value.path, problem, canonicalUrl(url)));
      }
    }
  }
  return issues;
}

/**
 * Returns a description of why a value of the given FHIR type is outside the ValueSet, or undefined when it is
 * fine or not checkable. `raw` is the JSON value (a boxed String for a primitive that has a `_x` sibling).
 */
export function bindingProblem(type: string, raw: unknown, expansion: ValueSetExpansion): string | undefined {
  switch (type) {
    case 'code':
    case 'string':
    case 'uri':
      return checkCode(primitiveString(raw), expansion);
    case 'Coding':
    case 'Quantity':
      return checkCodings([raw as Coding], expansion);
    case 'CodeableConcept':
      return checkCodeableConcept(raw as CodeableConcept, expansion);
    default:
      return undefined;
  }
}

/** Primitives that carry extensions (`_status`) reach us as String objects; anything non-string is core's job. */
function primitiveString(raw: unknown): string | undefined {
  if (typeof raw === 'string') {
    return raw;
  }
  return raw instanceof String ? raw.valueOf() : undefined;
}

function checkCode(code: string | undefined, expansion: ValueSetExpansion): string | undefined {
  if (code === undefined || expansion.codes.has(code)) {
    return undefined;
  }
  return `Code '${code}'`;
}

function checkCodeableConcept(concept: CodeableConcept, expansion: ValueSetExpansion): string | undefined {
  const codings = Array.isArray(concept.coding) ? concept.coding : [];
  if (codings.length === 0) {
    // A text-only concept cannot be "from" the ValueSet, which a required binding demands (HAPI agrees).
    return 'A CodeableConcept without any coding';
  }
  return checkCodings(codings, expansion);
}

/** R4 rule: at least one coding must be in the ValueSet; further codings from other systems are allowed. */
function checkCodings(codings: Coding[], expansion: ValueSetExpansion): string | undefined {
  const checkable = codings.filter((c) => typeof c?.code === 'string');
  // A Coding/Quantity without a code carries nothing to check (e.g. a Quantity with only a value).
  if (checkable.length === 0 || checkable.some((c) => codingInExpansion(c, expansion))) {
    return undefined;
  }
  const listed = checkable.map((c) => (c.system ? `${c.system}|${c.code}` : `'${c.code}'`)).join(', ');
  return checkable.length === 1 ? `Coding ${listed}` : `None of the codings (${listed})`;
}

/** A coding without a system has no defined meaning; accept it when its code exists in the ValueSet at all. */
function codingInExpansion(coding: Coding, expansion: ValueSetExpansion): boolean {
  const code = coding.code as string;
  if (typeof coding.system !== 'string') {
    return expansion.codes.has(code);
  }
  return expansion.systemCodes.has(coding.system + '|' + code);
}

export function bindingIssue(path: string, problem: string, valueSetUrl: string): OperationOutcomeIssue {
  return {
    severity: 'error',
    code: 'code-invalid',
    details: { text: `${problem} is not in the required ValueSet ${valueSetUrl}` },
    expression: [path],
  };
}
