import type { OperationOutcome } from '@medplum/fhirtypes';
import { OperationOutcomeError } from '@medplum/core';

function isOutcome(value: unknown): value is OperationOutcome {
  return (value as { resourceType?: unknown } | null)?.resourceType === 'OperationOutcome';
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** The OperationOutcome's issues as sentences a person can read (each issue's text, else its diagnostics). */
export function outcomeSentence(outcome: OperationOutcome): string {
  const parts = (outcome.issue ?? [])
    .map((i) => i.details?.text ?? i.diagnostics ?? '')
    .filter((t) => t.trim().length > 0)
    .map(sentence);
  return parts.length > 0 ? [...new Set(parts)].join(' ') : 'The server refused the request.';
}

/** Any error the portal meets, as a sentence: a server's OperationOutcome, a network failure, a bug. */
export function errorSentence(err: unknown): string {
  if (err instanceof OperationOutcomeError) {
    return outcomeSentence(err.outcome);
  }
  if (isOutcome(err)) {
    return outcomeSentence(err);
  }
  if (err instanceof TypeError && /fetch/i.test(err.message)) {
    return 'Hale could not be reached. Check your connection and try again.';
  }
  return sentence(err instanceof Error ? err.message : String(err));
}

/** POSTs JSON to one of Hale's account endpoints (/auth/…); a refusal is thrown as its OperationOutcome. */
export async function postAccount(path: string, body: unknown): Promise<void> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    const answer: unknown = await res.json().catch(() => undefined);
    throw new OperationOutcomeError(
      isOutcome(answer)
        ? answer
        : {
            resourceType: 'OperationOutcome',
            issue: [{ severity: 'error', code: 'exception', diagnostics: `${res.status} ${res.statusText}` }],
          }
    );
  }
}
