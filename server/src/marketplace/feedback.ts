import type { WithId } from '@medplum/core';
import { OperationOutcomeError, businessRule, conflict, notFound } from '@medplum/core';
import type {
  Appointment,
  Encounter,
  Extension,
  HealthcareService,
  PractitionerRole,
  QuestionnaireResponse,
} from '@medplum/fhirtypes';
import { sql } from '../db/sql';
import { forbiddenBecause } from '../fhir/errors';
import { invalid } from '../fhir/operations/parameters';
import { answerProblems } from '../intake/answers';
import type { SchedulingContext } from '../scheduling/caller';
import { readableBy } from '../scheduling/caller';
import { ruleOutcome } from '../scheduling/rules';
import { lockKey, searchAll } from '../scheduling/store';
import type { HaleRepository } from '../storage/repository';
import { FEEDBACK_FORM, FEEDBACK_FORM_URL, feedbackScore, rangeProblems } from './feedback-form';
import { FEEDBACK_IDENTIFIER_SYSTEM, LISTING_EXTENSIONS } from './vocabulary';

/*
 * Visit feedback (docs/marketplace.md "Feedback and ratings"): after a completed visit the patient answers the
 * visit-feedback form once, with Appointment/{id}/$submit-feedback; the server stores the QuestionnaireResponse and
 * adds its score to the rating of every listing (PractitionerRole, HealthcareService) the visit was with. Exactly
 * once per visit: the visit's advisory lock serialises submissions for it, and the second finds the first's
 * response (its identifier is the visit). Listing rows are then locked in id order, so concurrent feedback for
 * other visits of the same provider adds up without a lost update.
 */

export const FEEDBACK_RULES = {
  /** 422: the visit is not over (Appointment fulfilled, or its Encounter finished). */
  visitNotCompleted: 'visit-not-completed',
  /** 422: the caller is not the visit's patient. */
  notParticipant: 'not-visit-participant',
  /** 409: this visit's feedback was already given. */
  feedbackGiven: 'feedback-given',
  /** 422: the answers do not fit the feedback form. */
  feedbackInvalid: 'feedback-invalid',
  /** 422: the visit was with no marketplace listing, so there is nothing to rate. */
  visitNotListed: 'visit-not-listed',
} as const;
type FeedbackRule = (typeof FEEDBACK_RULES)[keyof typeof FEEDBACK_RULES];

export function feedbackRefused(rule: FeedbackRule, text: string): OperationOutcomeError {
  const base = rule === FEEDBACK_RULES.feedbackGiven ? conflict(text, rule) : businessRule(rule, text);
  return ruleOutcome(base, rule, text, 'business-rule');
}

/** The visit's Appointment for its own patient: 404 when the caller may not see it, 422 when seen but not theirs. */
async function ownVisit(ctx: SchedulingContext, id: string): Promise<WithId<Appointment>> {
  const patient = ctx.caller.patientId;
  if (!patient) {
    throw forbiddenBecause('Visit feedback is given by the patient of the visit (a patient user token)');
  }
  const visit = await ctx.system.readResource<Appointment>('Appointment', id);
  if ((visit.participant ?? []).some((p) => p.actor?.reference === `Patient/${patient}`)) {
    return visit;
  }
  if (await readableBy(ctx.repo, 'Appointment', id)) {
    throw feedbackRefused(FEEDBACK_RULES.notParticipant, 'Only the patient of the visit gives feedback on it');
  }
  throw new OperationOutcomeError(notFound);
}

/** A finished Encounter of the visit, if any (the telehealth flow closes one with $finish-visit). */
async function finishedEncounter(system: HaleRepository, visit: Appointment): Promise<WithId<Encounter> | undefined> {
  const encounters = await searchAll<Encounter>(system, `Encounter?appointment=Appointment/${visit.id}`);
  return encounters.find((e) => e.status === 'finished');
}

/** The listings a visit was with: its PractitionerRole and HealthcareService actors, and its Practitioners' roles. */
async function listingsOf(system: HaleRepository, visit: Appointment): Promise<string[]> {
  const actors = (visit.participant ?? []).map((p) => p.actor?.reference ?? '');
  const listings = new Set(
    actors.filter((r) => /^(PractitionerRole|HealthcareService)\/[A-Za-z0-9\-.]{1,64}$/.test(r))
  );
  for (const practitioner of actors.filter((r) => /^Practitioner\/[A-Za-z0-9\-.]{1,64}$/.test(r))) {
    for (const role of await searchAll<PractitionerRole>(system, `PractitionerRole?practitioner=${practitioner}`)) {
      if (role.active !== false) {
        listings.add(`PractitionerRole/${role.id}`);
      }
    }
  }
  return [...listings].sort();
}

/** The rating after one more score: count and total exact, the mean rounded to 2 places. */
export function addScore(rating: Extension | undefined, score: number): Extension {
  const part = (url: string): number => {
    const e = rating?.extension?.find((x) => x.url === url);
    return e?.valueUnsignedInt ?? 0;
  };
  const count = part('count') + 1;
  const total = part('total') + score;
  return {
    url: LISTING_EXTENSIONS.rating,
    extension: [
      { url: 'mean', valueDecimal: Math.round((total / count) * 100) / 100 },
      { url: 'count', valueUnsignedInt: count },
      { url: 'total', valueUnsignedInt: total },
    ],
  };
}

/** Locks a listing's row (the transaction's writes to it wait) and adds the score to its rating. */
async function rate(tx: HaleRepository, reference: string, score: number): Promise<void> {
  const [type, id] = reference.split('/') as ['PractitionerRole' | 'HealthcareService', string];
  await tx.flush();
  const rows = await tx.queryable.query<{ content: string }>(
    sql`SELECT content FROM resource WHERE type = ${type} AND id = ${id} AND NOT deleted FOR UPDATE`
  );
  const content = rows[0]?.content;
  if (!content) {
    return; // a listing deleted since the visit: nothing left to rate
  }
  const listing = JSON.parse(content) as WithId<PractitionerRole | HealthcareService>;
  const others = (listing.extension ?? []).filter((e) => e.url !== LISTING_EXTENSIONS.rating);
  const rating = (listing.extension ?? []).find((e) => e.url === LISTING_EXTENSIONS.rating);
  await tx.updateResource({ ...listing, extension: [...others, addScore(rating, score)] });
}

/**
 * Appointment/{id}/$submit-feedback: stores the patient's answers to the feedback form for a completed visit
 * and adds the score to the rating of each listing the visit was with. Refusals name their rule.
 */
export async function submitFeedback(
  ctx: SchedulingContext,
  appointmentId: string,
  answers: QuestionnaireResponse
): Promise<WithId<QuestionnaireResponse>> {
  const visit = await ownVisit(ctx, appointmentId);
  const encounter = await finishedEncounter(ctx.system, visit);
  if (visit.status !== 'fulfilled' && !encounter) {
    throw feedbackRefused(
      FEEDBACK_RULES.visitNotCompleted,
      'Feedback is given after the visit (Appointment fulfilled, or its Encounter finished)'
    );
  }
  const problems = [...answerProblems(FEEDBACK_FORM, answers), ...rangeProblems(answers)];
  const score = feedbackScore(answers);
  if (problems.length > 0 || score === undefined) {
    throw feedbackRefused(FEEDBACK_RULES.feedbackInvalid, problems.join('; '));
  }
  const listings = await listingsOf(ctx.system, visit);
  if (listings.length === 0) {
    throw feedbackRefused(FEEDBACK_RULES.visitNotListed, 'The visit was with no provider listed in the marketplace');
  }
  const key = `Appointment/${visit.id}`;
  return ctx.system.withTransaction(async (tx) => {
    await lockKey(tx, `feedback:${key}`);
    const identifier = encodeURIComponent(`${FEEDBACK_IDENTIFIER_SYSTEM}|${key}`);
    const given = await searchAll(tx, `QuestionnaireResponse?identifier=${identifier}`);
    if (given.length > 0) {
      throw feedbackRefused(FEEDBACK_RULES.feedbackGiven, 'Feedback on this visit was already given');
    }
    const stored = await tx.createResource<QuestionnaireResponse>({
      resourceType: 'QuestionnaireResponse',
      identifier: { system: FEEDBACK_IDENTIFIER_SYSTEM, value: key },
      questionnaire: FEEDBACK_FORM_URL,
      status: 'completed',
      subject: { reference: `Patient/${ctx.caller.patientId}` },
      author: { reference: `Patient/${ctx.caller.patientId}` },
      ...(encounter ? { encounter: { reference: `Encounter/${encounter.id}` } } : {}),
      authored: ctx.now.toISOString(),
      item: answers.item,
    });
    for (const listing of listings) {
      await rate(tx, listing, score);
    }
    return stored;
  });
}

export function assertResponse(value: unknown): QuestionnaireResponse {
  if (
    !value ||
    typeof value !== 'object' ||
    (value as { resourceType?: string }).resourceType !== 'QuestionnaireResponse'
  ) {
    throw invalid("'response' must be a QuestionnaireResponse");
  }
  return value as QuestionnaireResponse;
}
