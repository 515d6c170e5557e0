import type { CodeableConcept, Quantity } from '@medplum/fhirtypes';

/** "7 Dec 2026, 14:02" in the browser's locale and time zone; empty for no time. */
export function formatWhen(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '';
}

/** "130 mmHg", "≤ 130 mmHg". */
export function formatQuantity(q: Quantity | undefined): string {
  if (q?.value === undefined) {
    return '';
  }
  const comparator = { '<': '< ', '<=': '≤ ', '>=': '≥ ', '>': '> ', ad: '' }[q.comparator ?? 'ad'] ?? '';
  return `${comparator}${q.value} ${q.unit ?? q.code ?? ''}`.trim();
}

export function conceptText(c: CodeableConcept | undefined, fallback: string): string {
  return c?.text ?? c?.coding?.find((x) => x.display)?.display ?? c?.coding?.[0]?.code ?? fallback;
}
