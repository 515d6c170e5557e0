/**
 * Weekly summary (cron, weekly): for each patient with something to report in the 7 days before the run, a
 * DocumentReference holding a markdown summary (blood pressure, glucose and weight with their trends, steps,
 * sleep, Task and CarePlan-activity adherence) as a base64 attachment, and a PHI-free notification pointing to
 * it. One per patient and ISO week: running again in the same week writes nothing.
 */
import type { BotEvent, MedplumClient } from '@medplum/core';
import type { DocumentReference } from '@medplum/fhirtypes';
import { utf8ToBase64 } from './lib/base64';
import type { BotContext } from './lib/fhir';
import { addDays, contextOf, createOnce, inputOf, isCronInput, refOf, searchAll, secretNumber } from './lib/fhir';
import { queueNotification } from './lib/notify';
import { readingsBetween } from './lib/observations';
import { ALL_SUMMARY_CODES, renderSummary } from './lib/summary';
import { DATA_SHARING_REQUEST, LOINC, LOINC_CODE, SYSTEM } from './lib/vocabulary';

export interface WeeklySummaryResult {
  readonly week: string;
  readonly documents: readonly string[];
}

/** ISO 8601 week of the date (UTC), e.g. 2025-W11. */
export function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

export async function handler(medplum: MedplumClient, event: BotEvent): Promise<WeeklySummaryResult> {
  const ctx = contextOf(medplum, event);
  const week = isoWeek(ctx.now);
  const one = inputOf(event, 'Patient');
  if (!one && !isCronInput(event.input)) {
    return { week, documents: [] };
  }
  const patients = one
    ? [one]
    : await searchAll(medplum, 'Patient', [['_elements', 'id']], secretNumber(event, 'SUMMARY_BATCH', 10_000));
  const documents: string[] = [];
  for (const patient of patients) {
    const doc = await summarizePatient(ctx, `Patient/${patient.id}`, week);
    if (doc) {
      documents.push(doc);
    }
  }
  return { week, documents };
}

async function summarizePatient(ctx: BotContext, patient: string, week: string): Promise<string | undefined> {
  const from = addDays(ctx.now, -7);
  const [observations, tasks, carePlans] = await Promise.all([
    readingsBetween(ctx.medplum, patient, ALL_SUMMARY_CODES, from, ctx.now),
    ctx.medplum.searchResources('Task', [
      ['patient', patient],
      ['authored-on', `ge${from.toISOString()}`],
      ['_count', '1000'],
    ]),
    ctx.medplum.searchResources('CarePlan', [
      ['subject', patient],
      ['status', 'active'],
    ]),
  ]);
  const markdown = renderSummary({
    from,
    to: ctx.now,
    observations,
    tasks: tasks.filter(
      (t) => !t.code?.coding?.some((c) => c.system === SYSTEM.taskCode && c.code === DATA_SHARING_REQUEST)
    ),
    carePlans,
  });
  if (!markdown) {
    return undefined;
  }
  const document = summaryDocument(patient, week, from, ctx.now, markdown);
  const stored = await createOnce(ctx.medplum, document, `weekly-summary/${patient}/${week}`);
  await queueNotification(ctx.medplum, {
    key: `weekly-summary/${patient}/${week}/notify`,
    recipient: { reference: patient },
    category: 'weekly-summary',
    text: 'Your weekly summary is ready.',
    subject: { reference: patient },
    about: [{ reference: refOf(stored) }],
  });
  return refOf(stored);
}

function summaryDocument(patient: string, week: string, from: Date, now: Date, markdown: string): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    docStatus: 'final',
    type: {
      coding: [{ system: LOINC, code: LOINC_CODE.patientSummary, display: 'Patient summary Document' }],
      text: 'Weekly summary',
    },
    subject: { reference: patient },
    date: now.toISOString(),
    description: `Weekly summary ${week}`,
    content: [
      {
        attachment: {
          contentType: 'text/markdown',
          data: utf8ToBase64(markdown),
          title: `weekly-summary-${week}.md`,
          creation: now.toISOString(),
        },
      },
    ],
    context: { period: { start: from.toISOString(), end: now.toISOString() } },
  };
}
