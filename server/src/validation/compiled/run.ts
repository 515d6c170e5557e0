import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { JsonObject } from './json';

/**
 * One step of an element path, named two ways because the reference implementation names elements two ways:
 * the JSON-shape and null checks use the JSON property (`valueQuantity`, `_birthDate`), @medplum/core's checks
 * use the element name (`value[x]`, and `birthDate` for the content of `_birthDate`). Keeping both lets every
 * issue carry the expression clients already get for it.
 */
export interface Segment {
  readonly json: string;
  readonly core: string;
}

export type PathStyle = 'json' | 'core';

/**
 * The state of one validation: the issues found so far and where the walk is. The path is a stack of segments
 * and array indexes that is only rendered to a string when an issue is reported, so a valid resource costs no
 * string building at all.
 */
export class Run {
  readonly issues: OperationOutcomeIssue[] = [];
  /** The resources being walked, outermost first: %rootResource and %resource for FHIRPath invariants. */
  readonly resources: JsonObject[];
  private readonly path: (Segment | number)[] = [];

  constructor(
    readonly root: JsonObject,
    private readonly rootName: string
  ) {
    this.resources = [root];
  }

  enter(step: Segment | number): void {
    this.path.push(step);
  }

  leave(): void {
    this.path.pop();
  }

  /** Replaces the segment `depth` steps below the top of the path (0: the top). */
  replace(depth: number, segment: Segment): void {
    this.path[this.path.length - 1 - depth] = segment;
  }

  /** The innermost resource around the current element. */
  get resource(): JsonObject {
    return this.resources[this.resources.length - 1] ?? this.root;
  }

  /** Renders the current path; `child` names one more step below it. */
  pathOf(style: PathStyle, child?: string): string {
    let path = this.rootName;
    for (const step of this.path) {
      path += typeof step === 'number' ? `[${step}]` : `.${step[style]}`;
    }
    return child === undefined ? path : `${path}.${child}`;
  }

  structure(style: PathStyle, text: string, child?: string): void {
    this.report('structure', this.pathOf(style, child), text);
  }

  report(code: OperationOutcomeIssue['code'], expression: string, text: string, diagnostics?: string): void {
    const issue: OperationOutcomeIssue = { severity: 'error', code, details: { text }, expression: [expression] };
    if (diagnostics !== undefined) {
      issue.diagnostics = diagnostics;
    }
    this.issues.push(issue);
  }
}
