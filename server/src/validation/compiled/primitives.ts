import { fhirTypeToJsType, isValidCalendarDate, validationRegexes } from '@medplum/core';

/** Returns a problem with a primitive value already known to have the right JSON type, or undefined. */
export type PrimitiveCheck = (value: unknown) => string | undefined;

export type JsType = 'string' | 'number' | 'boolean';

const INTEGER_MIN = -2_147_483_648;
const INTEGER_MAX = 2_147_483_647;
const MAX_STRING_LENGTH = 1024 * 1024;
/** @medplum/core's default limit on the decoded size of a base64Binary. */
const BASE64_MAX_BYTES = 1024 * 1024;
const BASE64_ALPHABET = /^[A-Za-z\d+/]+$/;

const checks = new Map<string, PrimitiveCheck>();

/** The JSON type of a FHIR primitive type code; undefined for complex types. */
export function primitiveJsType(code: string): JsType | undefined {
  return code in fhirTypeToJsType ? fhirTypeToJsType[code as keyof typeof fhirTypeToJsType] : undefined;
}

/**
 * The check for one primitive type, with the same rules and messages as @medplum/core's validator: the type's regex from core's `validationRegexes`, calendar dates, integer ranges, base64 alphabet and size.
 */
export function primitiveCheck(code: string): PrimitiveCheck {
  let check = checks.get(code);
  if (!check) {
    check = buildCheck(code);
    checks.set(code, check);
  }
  return check;
}

function buildCheck(code: string): PrimitiveCheck {
  const jsType = primitiveJsType(code);
  if (code === 'base64Binary') {
    return (value) => base64Problem(value as string);
  }
  if (jsType === 'string') {
    const regex = validationRegexes[code];
    const calendar = code === 'date' || code === 'dateTime' || code === 'instant';
    return (value) => stringProblem(value as string, code, regex, calendar);
  }
  if (jsType === 'number') {
    return (value) => numberProblem(value as number, code);
  }
  return () => undefined;
}

function stringProblem(value: string, code: string, regex: RegExp | undefined, calendar: boolean): string | undefined {
  if (!value.trim()) {
    return 'String must contain non-whitespace content';
  }
  if (value.length > MAX_STRING_LENGTH) {
    return 'String cannot be larger than 1 MB';
  }
  if (regex && !regex.test(value)) {
    return `Invalid ${code} format`;
  }
  return calendar && !isValidCalendarDate(value) ? `Invalid ${code} value` : undefined;
}

function numberProblem(value: number, code: string): string | undefined {
  if (!Number.isFinite(value)) {
    return 'Invalid numeric value';
  }
  const integer = code === 'integer' || code === 'positiveInt' || code === 'unsignedInt';
  if (integer && !Number.isInteger(value)) {
    return 'Expected number to be an integer';
  }
  const min = minimumOf(code);
  if (min !== undefined && (value < min || value > INTEGER_MAX)) {
    return `Expected number to be in the range ${min}..${INTEGER_MAX}`;
  }
  return undefined;
}

function minimumOf(code: string): number | undefined {
  switch (code) {
    case 'integer':
      return INTEGER_MIN;
    case 'positiveInt':
      return 1;
    case 'unsignedInt':
      return 0;
    default:
      return undefined;
  }
}

/** Validates the alphabet and padding without a backtracking regex, then the approximate decoded size. */
function base64Problem(value: string): string | undefined {
  let padding = 0;
  if (value.endsWith('==')) {
    padding = 2;
  } else if (value.endsWith('=')) {
    padding = 1;
  }
  const data = padding > 0 ? value.slice(0, -padding) : value;
  if (value.length === 0 || value.length % 4 !== 0 || !BASE64_ALPHABET.test(data)) {
    return 'Invalid base64Binary format';
  }
  const bytes = Math.max(0, Math.floor((value.length * 3) / 4) - padding);
  return bytes > BASE64_MAX_BYTES ? `base64Binary exceeds ${BASE64_MAX_BYTES} bytes` : undefined;
}
