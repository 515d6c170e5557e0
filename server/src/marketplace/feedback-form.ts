import type { Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../access/consent/vocabulary';
import { FEEDBACK_SCORE_LINK_ID } from './vocabulary';

export const FEEDBACK_FORM_URL = `${HALE_FHIR}/Questionnaire/visit-feedback`;

/**
 * The form a patient answers after a visit (published at start as Questionnaire/hale-visit-feedback, so a portal
 * renders it): the NPS question, 0 to 10, which the listing's rating averages; CSAT, 1 to 5; a comment.
 */
export const FEEDBACK_FORM: Questionnaire = {
  resourceType: 'Questionnaire',
  id: 'hale-visit-feedback',
  url: FEEDBACK_FORM_URL,
  version: '0.1.0',
  name: 'HaleVisitFeedback',
  title: 'How was your visit?',
  status: 'active',
  publisher: 'Hale',
  description:
    'Feedback after a completed visit, one per visit (Appointment/$submit-feedback). The score (NPS, 0 to 10) is ' +
    "averaged into the rating of the visit's marketplace listings; satisfaction (CSAT, 1 to 5) and the comment are " +
    'kept with the response.',
  subjectType: ['Patient'],
  item: [
    {
      linkId: FEEDBACK_SCORE_LINK_ID,
      text: 'How likely are you to recommend this provider to a friend? (0 = not at all, 10 = extremely)',
      type: 'integer',
      required: true,
    },
    {
      linkId: 'satisfaction',
      text: 'How satisfied are you with the visit?',
      type: 'integer',
      answerOption: [1, 2, 3, 4, 5].map((valueInteger) => ({ valueInteger })),
    },
    { linkId: 'comment', text: 'Anything you would like to tell us?', type: 'text', maxLength: 2000 },
  ],
};

/** What answerProblems does not check of this form: the value ranges. */
export function rangeProblems(response: QuestionnaireResponse): string[] {
  const values = (linkId: string): unknown[] =>
    (response.item ?? [])
      .filter((i) => i.linkId === linkId)
      .flatMap((i) => (i.answer ?? []).map((a) => a.valueInteger));
  const problems: string[] = [];
  if (feedbackScore(response) === undefined) {
    problems.push("'score' must be one whole number from 0 to 10");
  }
  if (!values('satisfaction').every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 5)) {
    problems.push("'satisfaction' must be a whole number from 1 to 5");
  }
  return problems;
}

/** The 0 to 10 score of a response, or undefined when it is missing, repeated or out of range. */
export function feedbackScore(response: QuestionnaireResponse): number | undefined {
  const answers = (response.item ?? [])
    .filter((i) => i.linkId === FEEDBACK_SCORE_LINK_ID)
    .flatMap((i) => i.answer ?? []);
  const value = answers.length === 1 ? answers[0]?.valueInteger : undefined;
  return value !== undefined && Number.isInteger(value) && value >= 0 && value <= 10 ? value : undefined;
}
