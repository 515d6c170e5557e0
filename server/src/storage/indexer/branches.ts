import type { Atom } from '@medplum/core';
import {
  AsAtom,
  DotAtom,
  EqualsAtom,
  FunctionAtom,
  IndexerAtom,
  InfixOperatorAtom,
  IsAtom,
  LiteralAtom,
  parseFhirPath,
  SymbolAtom,
  tryGetDataType,
  UnionAtom,
} from '@medplum/core';

/**
 * One navigation step of a search parameter expression branch, in the subset of FHIRPath
 * that search parameter definitions actually use. Anything outside it is evaluated by the
 * FHIRPath engine instead (see expression.ts).
 */
export type Step =
  | { kind: 'prop'; name: string }
  | { kind: 'ofType'; type: string }
  | { kind: 'whereResolveIs'; type: string }
  | { kind: 'whereEquals'; prop: string; literal: string }
  | { kind: 'index'; index: number };

/** A top-level `|` branch of an expression that applies to one resource type. */
export interface Branch {
  atom: Atom;
  /** The FHIRPath text of the branch, rooted at the concrete resource type (for the FHIRPath engine). */
  text: string;
  /** The steps after the root, or undefined when the branch is outside the supported subset. */
  steps: Step[] | undefined;
}

/**
 * The branches of `expression` that apply to `resourceType`: those rooted at the type itself,
 * at Resource (or DomainResource, when the type is one), or not rooted at a type at all
 * (a bare `name | alias` is relative to the resource).
 */
export function branchesFor(resourceType: string, expression: string): Branch[] {
  const atoms: Atom[] = [];
  splitUnion(parseFhirPath(expression).child, atoms);
  const result: Branch[] = [];
  for (const atom of atoms) {
    // A branch not starting with a symbol (say `extension(...)`) is relative to the resource too.
    const root = rootSymbol(atom) ?? '';
    if (!appliesTo(root, resourceType)) {
      continue;
    }
    const relative = !isTypeName(root);
    const text = atom.toString();
    result.push({
      atom,
      text: relative ? text : text.replace(/^(\(*)(Resource|DomainResource)\b/, `$1${resourceType}`),
      steps: toSteps(atom, relative),
    });
  }
  return result;
}

function splitUnion(atom: Atom, out: Atom[]): void {
  if (atom instanceof UnionAtom) {
    splitUnion(atom.left, out);
    splitUnion(atom.right, out);
  } else {
    out.push(atom);
  }
}

/** The left-most symbol of a branch: the type it navigates from (or a property, for relative branches). */
function rootSymbol(atom: Atom): string | undefined {
  let current: Atom = atom;
  while (!(current instanceof SymbolAtom)) {
    if (current instanceof InfixOperatorAtom || current instanceof IndexerAtom) {
      current = current.left;
    } else {
      return undefined;
    }
  }
  return current.name;
}

function isTypeName(symbol: string): boolean {
  return symbol.charCodeAt(0) >= 65 && symbol.charCodeAt(0) <= 90;
}

function appliesTo(root: string, resourceType: string): boolean {
  if (root === resourceType || root === 'Resource' || !isTypeName(root)) {
    return true;
  }
  // Bundle, Binary and Parameters are Resources but not DomainResources; only DomainResources have `text`.
  return root === 'DomainResource' && tryGetDataType(resourceType)?.elements['text'] !== undefined;
}

/** Flattens a branch into steps; the root type symbol itself is dropped unless the branch is relative. */
function toSteps(atom: Atom, relative: boolean): Step[] | undefined {
  const steps: Step[] = [];
  if (!flatten(atom, steps)) {
    return undefined;
  }
  const first = steps[0];
  if (first?.kind !== 'prop') {
    return undefined;
  }
  return relative ? steps : steps.slice(1);
}

function flatten(atom: Atom, out: Step[]): boolean {
  if (atom instanceof SymbolAtom) {
    if (atom.name.startsWith('$') || atom.name.startsWith('%')) {
      return false;
    }
    out.push({ kind: 'prop', name: atom.name });
    return true;
  }
  if (atom instanceof DotAtom) {
    return flatten(atom.left, out) && flatten(atom.right, out);
  }
  if (atom instanceof AsAtom) {
    const type = typeSymbol(atom.right);
    return type !== undefined && flatten(atom.left, out) && push(out, { kind: 'ofType', type });
  }
  if (atom instanceof IndexerAtom) {
    const index = atom.expr instanceof LiteralAtom ? atom.expr.value.value : undefined;
    return typeof index === 'number' && flatten(atom.left, out) && push(out, { kind: 'index', index });
  }
  if (atom instanceof FunctionAtom) {
    const step = functionStep(atom);
    return step !== undefined && push(out, step);
  }
  return false;
}

function push(out: Step[], step: Step): true {
  out.push(step);
  return true;
}

function functionStep(atom: FunctionAtom): Step | undefined {
  const arg = atom.args.length === 1 ? atom.args[0] : undefined;
  if (atom.name === 'ofType' && arg) {
    const type = typeSymbol(arg);
    return type === undefined ? undefined : { kind: 'ofType', type };
  }
  if (atom.name !== 'where') {
    return undefined;
  }
  if (arg instanceof IsAtom && arg.left instanceof FunctionAtom && arg.left.name === 'resolve') {
    const type = arg.left.args.length === 0 ? typeSymbol(arg.right) : undefined;
    return type === undefined ? undefined : { kind: 'whereResolveIs', type };
  }
  if (arg instanceof EqualsAtom && arg.left instanceof SymbolAtom && arg.right instanceof LiteralAtom) {
    const literal: unknown = arg.right.value.value;
    return typeof literal === 'string' ? { kind: 'whereEquals', prop: arg.left.name, literal } : undefined;
  }
  return undefined;
}

function typeSymbol(atom: Atom | undefined): string | undefined {
  if (!(atom instanceof SymbolAtom)) {
    return undefined;
  }
  return atom.name.replace(/^(FHIR|System)\./, '');
}
