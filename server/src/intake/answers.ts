import type {
  Coding,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireItemEnableWhen,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
} from '@medplum/fhirtypes';

/**
 * Checks a QuestionnaireResponse against its Questionnaire (R4): every item answered exists in the
 * form, required items that are enabled are answered, items that enableWhen switches off are not,
 * each answer has the value type of its item (and a choice one of its answerOptions when the form
 * lists them), non-repeating items have at most one answer, strings respect maxLength. Returns the
 * problems, each naming the item's linkId; none means the answers are valid.
 */
const VALUE_TYPES: Record<string, readonly string[]> = {
  boolean: ['valueBoolean'],
  decimal: ['valueDecimal', 'valueInteger'],
  integer: ['valueInteger'],
  date: ['valueDate'],
  dateTime: ['valueDateTime'],
  time: ['valueTime'],
  string: ['valueString'],
  text: ['valueString'],
  url: ['valueUri'],
  choice: ['valueCoding'],
  'open-choice': ['valueCoding', 'valueString'],
  attachment: ['valueAttachment'],
  reference: ['valueReference'],
  quantity: ['valueQuantity'],
};

type Answer = QuestionnaireResponseItemAnswer;

/** The value[x] of an answer (prefix value) or the answer[x] of an enableWhen (prefix answer). */
const valueKey = (a: object, prefix = 'value'): string | undefined => Object.keys(a).find((k) => k.startsWith(prefix));
const valueOf = (a: object, prefix = 'value'): unknown => {
  const key = valueKey(a, prefix);
  return key ? (a as Record<string, unknown>)[key] : undefined;
};

/** Every answer in the response by its item's linkId (enableWhen may point anywhere in the form). */
function answersByLinkId(items: readonly QuestionnaireResponseItem[] | undefined, out = new Map<string, Answer[]>()) {
  for (const item of items ?? []) {
    out.set(item.linkId, [...(out.get(item.linkId) ?? []), ...(item.answer ?? [])]);
    answersByLinkId(item.item, out);
    for (const a of item.answer ?? []) {
      answersByLinkId(a.item, out);
    }
  }
  return out;
}

const sameCoding = (a: Coding, b: Coding): boolean => a.code === b.code && (a.system ?? '') === (b.system ?? '');

function compare(given: unknown, expected: unknown, operator: QuestionnaireItemEnableWhen['operator']): boolean {
  if (typeof given === 'object' && given && typeof expected === 'object' && expected) {
    if ('code' in expected) {
      const same = sameCoding(given, expected as Coding);
      return operator === '!=' ? !same : operator === '=' && same;
    }
    if ('value' in expected) {
      return compare((given as { value?: number }).value, (expected as { value?: number }).value, operator);
    }
    return false;
  }
  const [a, b] = [given as number | string, expected as number | string];
  switch (operator) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
    case 'exists':
      return false;
  }
}

function enabled(item: QuestionnaireItem, answers: ReadonlyMap<string, Answer[]>): boolean {
  const conditions = item.enableWhen ?? [];
  if (conditions.length === 0) {
    return true;
  }
  const results = conditions.map((ew) => {
    const given = answers.get(ew.question) ?? [];
    if (ew.operator === 'exists') {
      return given.length > 0 === (ew.answerBoolean ?? true);
    }
    const expected = valueOf(ew, 'answer');
    return given.some((a) => compare(valueOf(a), expected, ew.operator));
  });
  return item.enableBehavior === 'any' ? results.some(Boolean) : results.every(Boolean);
}

function checkAnswer(item: QuestionnaireItem, answer: Answer, problems: string[]): void {
  const key = valueKey(answer);
  const allowed = VALUE_TYPES[item.type] ?? [];
  if (!key || !allowed.includes(key)) {
    problems.push(`'${item.linkId}' takes an answer of type ${item.type}`);
    return;
  }
  if (key === 'valueCoding' && item.answerOption?.length) {
    const coding = answer.valueCoding as Coding;
    if (!item.answerOption.some((o) => o.valueCoding && sameCoding(o.valueCoding, coding))) {
      problems.push(`'${item.linkId}': the answer is not one of its options`);
    }
  }
  if (key === 'valueString' && item.maxLength && (answer.valueString ?? '').length > item.maxLength) {
    problems.push(`'${item.linkId}': at most ${item.maxLength} characters`);
  }
}

function checkItems(
  form: readonly QuestionnaireItem[] | undefined,
  given: readonly QuestionnaireResponseItem[] | undefined,
  answers: ReadonlyMap<string, Answer[]>,
  problems: string[]
): void {
  for (const r of given ?? []) {
    if (!(form ?? []).some((q) => q.linkId === r.linkId)) {
      problems.push(`'${r.linkId}' is not an item of the questionnaire here`);
    }
  }
  for (const item of form ?? []) {
    if (item.type === 'display') {
      continue;
    }
    const mine = (given ?? []).filter((r) => r.linkId === item.linkId);
    const own = mine.flatMap((r) => r.answer ?? []);
    const on = enabled(item, answers);
    if (!item.repeats && mine.length > 1) {
      problems.push(`'${item.linkId}' does not repeat`);
    }
    if (!on) {
      if (own.length > 0 || mine.some((r) => r.item?.length)) {
        problems.push(`'${item.linkId}' is answered though its enableWhen switches it off`);
      }
      continue;
    }
    if (item.type === 'group') {
      if (item.required && mine.length === 0) {
        problems.push(`'${item.linkId}' is required`);
      }
      mine.forEach((r) => checkItems(item.item, r.item, answers, problems));
      continue;
    }
    if (item.required && own.length === 0) {
      problems.push(`'${item.linkId}' is required`);
    }
    if (!item.repeats && own.length > 1) {
      problems.push(`'${item.linkId}' takes one answer`);
    }
    for (const a of own) {
      checkAnswer(item, a, problems);
      if (a.item?.length) {
        checkItems(item.item, a.item, answers, problems);
      }
    }
  }
}

export function answerProblems(form: Questionnaire, response: QuestionnaireResponse): string[] {
  const problems: string[] = [];
  checkItems(form.item, response.item, answersByLinkId(response.item), problems);
  return problems;
}
