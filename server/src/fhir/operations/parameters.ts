import { OperationOutcomeError, badRequest } from '@medplum/core';
import type {
  CodeableConcept,
  OperationDefinition,
  OperationDefinitionParameter,
  Parameters,
  ParametersParameter,
  Period,
  Reference,
  Resource,
} from '@medplum/fhirtypes';

/** The value of each input parameter type the operations use, as parsed. */
interface Values {
  Reference: Reference;
  Period: Period;
  code: string;
  string: string;
  boolean: boolean;
  integer: number;
  date: string;
  time: string;
  dateTime: string;
  CodeableConcept: CodeableConcept;
  /** A resource given inline (`parameter.resource`); its content is checked by the operation. */
  Resource: Resource;
}
type InputType = keyof Values;

const CHECKS: Record<InputType, (v: unknown) => boolean> = {
  Reference: (v) => isObject(v) && typeof v.reference === 'string' && v.reference.length > 0,
  Period: (v) => isObject(v) && (v.start === undefined || isDate(v.start)) && (v.end === undefined || isDate(v.end)),
  code: (v) => typeof v === 'string' && /^[^\s]+(\s[^\s]+)*$/.test(v),
  string: (v) => typeof v === 'string' && v.trim().length > 0,
  boolean: (v) => typeof v === 'boolean',
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  date: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && isDate(v),
  // FHIR time is hh:mm:ss; hh:mm is taken too (opening hours are written that way).
  time: (v) => typeof v === 'string' && /^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/.test(v),
  dateTime: (v) => isDate(v),
  CodeableConcept: (v) =>
    isObject(v) &&
    ((typeof v.text === 'string' && v.text.trim().length > 0) || (Array.isArray(v.coding) && v.coding.length > 0)),
  Resource: (v) => isObject(v) && typeof v.resourceType === 'string',
};

/**
 * The `in` parameters of an operation call, checked against its OperationDefinition: the body
 * must be Parameters (or empty), every part must be a declared input with a value of the declared
 * type, and cardinalities must hold. Anything else is a 400 naming the parameter.
 */
export class OperationInput {
  private constructor(private readonly byName: Map<string, unknown[]>) {}

  static parse(definition: OperationDefinition, body: unknown): OperationInput {
    if (body !== undefined && (!isObject(body) || body.resourceType !== 'Parameters')) {
      throw invalid(`$${definition.code} takes a Parameters resource`);
    }
    return OperationInput.parseParts(
      definition.code,
      definition.parameter ?? [],
      (body as Parameters | undefined)?.parameter
    );
  }

  /** The given parameters (or the parts of one) against the declared ones; a declaration with `part` takes parts. */
  private static parseParts(
    code: string,
    declared: readonly OperationDefinitionParameter[],
    given: readonly ParametersParameter[] | undefined
  ): OperationInput {
    const inputs = declared.filter((p) => p.use === 'in');
    const byName = new Map<string, unknown[]>();
    for (const part of given ?? []) {
      const def = inputs.find((p) => p.name === part.name);
      if (!def) {
        throw invalid(`Unknown parameter '${part.name}' for $${code}`);
      }
      if (def.part) {
        if (!part.part?.length) {
          throw invalid(`Parameter '${part.name}' must have parts`);
        }
        byName.set(def.name, [...(byName.get(def.name) ?? []), OperationInput.parseParts(code, def.part, part.part)]);
        continue;
      }
      const type = def.type as InputType;
      const value = valueOf(part, type);
      if (value === undefined || !CHECKS[type](value)) {
        throw invalid(
          type === 'Resource'
            ? `Parameter '${part.name}' must carry a resource`
            : `Parameter '${part.name}' must have a value${capitalize(type)}`
        );
      }
      byName.set(def.name, [...(byName.get(def.name) ?? []), value]);
    }
    for (const def of inputs) {
      const count = byName.get(def.name)?.length ?? 0;
      if (count < def.min) {
        throw invalid(`Parameter '${def.name}' is required`);
      }
      if (def.max !== '*' && count > Number(def.max)) {
        throw invalid(`Parameter '${def.name}' may be given at most ${def.max} time(s)`);
      }
    }
    return new OperationInput(byName);
  }

  one<T extends InputType>(name: string, _type: T): Values[T] | undefined {
    return this.byName.get(name)?.[0] as Values[T] | undefined;
  }

  all<T extends InputType>(name: string, _type: T): Values[T][] {
    return (this.byName.get(name) ?? []) as Values[T][];
  }

  /** The occurrences of a parameter declared with parts, each parsed against those parts. */
  parts(name: string): OperationInput[] {
    return (this.byName.get(name) ?? []) as OperationInput[];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }
}

export function invalid(text: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest(text));
}

function valueOf(part: ParametersParameter, type: InputType): unknown {
  if (type === 'Resource') {
    return part.resource;
  }
  return (part as unknown as Record<string, unknown>)[`value${capitalize(type)}`];
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A FHIR date or dateTime (the partial forms too). */
function isDate(v: unknown): boolean {
  return (
    typeof v === 'string' &&
    /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/.test(v) &&
    !Number.isNaN(Date.parse(v.length === 4 ? `${v}-01-01` : v.length === 7 ? `${v}-01` : v))
  );
}
