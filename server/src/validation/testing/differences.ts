import { capitalize, getAllDataTypes } from '@medplum/core';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

/**
 * The kinds of deliberate difference between the compiled validator and the reference implementation; the
 * differential test lists each with its reason. Any other difference in (expression, code) pairs is a bug.
 */
export type DifferenceReason =
  | 'indexes'
  | 'choiceConflict'
  | 'choiceSuffix'
  | 'malformedExtension'
  | 'emptyExtension'
  | 'nestedNotInArray'
  | 'coreAborted'
  | 'noiseBelow';

export interface Difference {
  side: 'compiled only' | 'reference only';
  issue: OperationOutcomeIssue;
  reason: DifferenceReason | undefined;
}

/**
 * The issues that only one side reports, each explained by a deliberate difference or left unexplained.
 * `coreAborted` tells whether @medplum/core's validator aborted or crashed on this input (asked only when needed).
 */
export function compareIssues(
  compiled: OperationOutcomeIssue[],
  reference: OperationOutcomeIssue[],
  coreAborted: () => boolean
): Difference[] {
  const compiledOnly = onlyIn(compiled, reference);
  const referenceOnly = onlyIn(reference, compiled);
  const differences: Difference[] = [];
  for (const issue of referenceOnly) {
    differences.push({ side: 'reference only', issue, reason: referenceOnlyReason(issue, compiled) });
  }
  for (const issue of compiledOnly) {
    const reason = reference.some((r) => isSameButIndexed(issue, r))
      ? 'indexes'
      : compiledOnlyReason(issue, compiled, coreAborted);
    differences.push({ side: 'compiled only', issue, reason });
  }
  return differences;
}

function referenceOnlyReason(
  issue: OperationOutcomeIssue,
  compiled: OperationOutcomeIssue[]
): DifferenceReason | undefined {
  if (compiled.some((c) => isSameButIndexed(c, issue))) {
    return 'indexes';
  }
  const misread = withoutIndexes(coreStyle(expressionOf(issue)));
  const extended = compiled.filter(isAboutExtension).map((c) => withoutIndexes(coreStyle(expressionOf(c))));
  if (extended.some((e) => misread === e || misread.startsWith(e + '.'))) {
    return 'malformedExtension';
  }
  return noiseReason(issue, compiled);
}

function compiledOnlyReason(
  issue: OperationOutcomeIssue,
  compiled: OperationOutcomeIssue[],
  coreAborted: () => boolean
): DifferenceReason | undefined {
  const text = issue.details?.text ?? '';
  if (text.startsWith('Conflicting choice of type properties')) {
    return 'choiceConflict';
  }
  if (text.startsWith('Invalid additional property') && isChoiceLike(lastSegment(expressionOf(issue)))) {
    return 'choiceSuffix';
  }
  if (text.startsWith('Empty objects') && isAboutExtension(issue)) {
    return 'emptyExtension';
  }
  const expression = expressionOf(issue);
  const inSingle = (c: OperationOutcomeIssue): boolean =>
    expressionOf(c) === expression && c.details?.text === 'Expected array of values for property';
  if (issue.code === 'invalid' && compiled.some(inSingle)) {
    return 'nestedNotInArray';
  }
  if (coreAborted()) {
    return 'coreAborted';
  }
  return noiseReason(issue, compiled);
}

function noiseReason(issue: OperationOutcomeIssue, compiled: OperationOutcomeIssue[]): DifferenceReason | undefined {
  const expression = expressionOf(issue);
  const variants = [expression, coreStyle(expression)];
  // Core names some issues without any array index; those can only be placed below an element by its name.
  const unindexed = !expression.includes('[');
  const below = compiled.some((anchor) => {
    if (anchor.code !== 'structure' && anchor.code !== 'invalid') {
      return false;
    }
    const prefixes = [expressionOf(anchor), coreStyle(expressionOf(anchor))].map((p) =>
      unindexed ? withoutIndexes(p) : p
    );
    return prefixes.some((p) => variants.some((v) => v.startsWith(p + '.') || v.startsWith(p + '[')));
  });
  return below ? 'noiseBelow' : undefined;
}

/** An issue about a `_x` property itself or one of its items. */
function isAboutExtension(issue: OperationOutcomeIssue): boolean {
  return lastSegment(withoutIndexes(expressionOf(issue))).startsWith('_');
}

function onlyIn(issues: OperationOutcomeIssue[], others: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  const otherKeys = new Set(others.map(pairKey));
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = pairKey(issue);
    const keep = !otherKeys.has(key) && !seen.has(key);
    seen.add(key);
    return keep;
  });
}

export function pairKey(issue: OperationOutcomeIssue): string {
  return `${issue.code} ${expressionOf(issue)}`;
}

function isSameButIndexed(compiled: OperationOutcomeIssue, reference: OperationOutcomeIssue): boolean {
  const c = expressionOf(compiled);
  const r = expressionOf(reference);
  return compiled.code === reference.code && c !== r && withoutIndexes(c) === withoutIndexes(r);
}

function expressionOf(issue: OperationOutcomeIssue): string {
  return issue.expression?.[0] ?? '';
}

function withoutIndexes(expression: string): string {
  return expression.replace(/\[\d+\]/g, '');
}

function lastSegment(expression: string): string {
  return expression.slice(expression.lastIndexOf('.') + 1);
}

let choiceNames: Map<string, string> | undefined;

/** JSON name of a choice type → element name in core's style, over all types: valueQuantity → value[x]. */
function choiceNamesByJsonName(): Map<string, string> {
  if (!choiceNames) {
    choiceNames = new Map();
    for (const schema of Object.values(getAllDataTypes())) {
      for (const [name, element] of Object.entries(schema.elements)) {
        if (name.endsWith('[x]')) {
          for (const type of element.type) {
            choiceNames.set(name.slice(0, -3) + capitalize(type.code), name);
          }
        }
      }
    }
  }
  return choiceNames;
}

function isChoiceLike(name: string): boolean {
  const bare = name.startsWith('_') ? name.slice(1) : name;
  const prefixes = new Set([...choiceNamesByJsonName().values()].map((n) => n.slice(0, -3)));
  return [...prefixes].some((prefix) => bare.startsWith(prefix) && /^[A-Z]/.test(bare.slice(prefix.length)));
}

/** The expression in core's naming: choice types as `value[x]`, `_x` content under `x`. */
function coreStyle(expression: string): string {
  const names = choiceNamesByJsonName();
  return expression
    .split('.')
    .map((segment) => {
      const [, name = segment, index = ''] = /^([^[]*)(.*)$/.exec(segment) ?? [];
      const bare = name.startsWith('_') ? name.slice(1) : name;
      return (names.get(bare) ?? bare) + index;
    })
    .join('.');
}
