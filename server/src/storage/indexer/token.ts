import type { TypedValue } from '@medplum/core';
import type { CodeableConcept, Coding, ContactPoint, Identifier } from '@medplum/fhirtypes';
import type { IndexRows } from './rows';
import { normalizeSearchString } from './string';

/**
 * Token rows. Coded values give (system, code) with the display normalized for `:text`;
 * an Identifier gives (system, value) and its type for `:of-type`; a ContactPoint is searched
 * on its value alone; primitives (code, string, boolean, ...) are a code without a system.
 */
export function appendTokenRows(values: readonly TypedValue[], sp: number, grp: number, rows: IndexRows): void {
  for (const { type, value } of values) {
    switch (type) {
      case 'CodeableConcept':
        appendCodeableConcept(value as CodeableConcept, sp, grp, rows);
        break;
      case 'Coding':
        appendCoding(value as Coding, sp, grp, rows);
        break;
      case 'Identifier':
        appendIdentifier(value as Identifier, sp, grp, rows);
        break;
      case 'ContactPoint':
        appendCode(null, (value as ContactPoint).value, null, sp, grp, rows);
        break;
      default:
        appendPrimitive(value, sp, grp, rows);
    }
  }
}

function appendCoding(coding: Coding, sp: number, grp: number, rows: IndexRows): void {
  appendCode(coding.system ?? null, coding.code, normalizeDisplay(coding.display), sp, grp, rows);
}

/**
 * One row per coding; CodeableConcept.text gets a row of its own (no system, no code) unless it
 * says what a coding's display already says, so `:text` finds either.
 */
function appendCodeableConcept(concept: CodeableConcept, sp: number, grp: number, rows: IndexRows): void {
  const text = normalizeDisplay(concept.text);
  let textSeen = text === null;
  for (const coding of concept.coding ?? []) {
    const display = normalizeDisplay(coding.display);
    textSeen ||= display === text;
    appendCode(coding.system ?? null, coding.code, display, sp, grp, rows);
  }
  if (!textSeen) {
    rows.token.push({ sp, grp, system: null, code: null, display: text, ofType: null });
  }
}

function appendIdentifier(identifier: Identifier, sp: number, grp: number, rows: IndexRows): void {
  const value = identifier.value;
  if (typeof value !== 'string' || value === '') {
    return;
  }
  const system = identifier.system ?? null;
  const display = normalizeDisplay(identifier.type?.text);
  let typed = false;
  for (const coding of identifier.type?.coding ?? []) {
    if (coding.code) {
      rows.token.push({ sp, grp, system, code: value, display, ofType: (coding.system ?? '') + '|' + coding.code });
      typed = true;
    }
  }
  if (!typed) {
    rows.token.push({ sp, grp, system, code: value, display, ofType: null });
  }
}

function appendPrimitive(value: unknown, sp: number, grp: number, rows: IndexRows): void {
  if (typeof value === 'string') {
    appendCode(null, value, null, sp, grp, rows);
  } else if (typeof value === 'boolean' || typeof value === 'number') {
    appendCode(null, String(value), null, sp, grp, rows);
  }
}

function appendCode(
  system: string | null,
  code: string | undefined,
  display: string | null,
  sp: number,
  grp: number,
  rows: IndexRows
): void {
  if ((typeof code === 'string' && code !== '') || system !== null || display !== null) {
    rows.token.push({ sp, grp, system, code: code || null, display, ofType: null });
  }
}

function normalizeDisplay(display: string | undefined): string | null {
  return typeof display === 'string' && display !== '' ? normalizeSearchString(display) || null : null;
}
