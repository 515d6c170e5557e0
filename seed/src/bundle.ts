/**
 * Public entry points: one patient's history as a FHIR R4 transaction Bundle, or a lazy stream
 * of them. Output is a pure function of the options: same inputs, byte-identical JSON.
 */
import type { Bundle, Condition, Organization, Practitioner, Reference } from '@medplum/fhirtypes';
import { appointmentResource, carePlanResource, goalResource } from './care';
import { allergyResource, chronicConditionResource, medicationRequestResource } from './clinical';
import { EntryList } from './entries';
import { addVisit, clinicalContext, type GenerationContext } from './encounters';
import { immunizationResource, scheduleImmunizations } from './immunizations';
import { createProfile, mrnOf, patientResource } from './patient';
import { Physiology } from './physiology';
import { MINIMUM_RESOURCES, planHistory, type ChronicPlan, type HistoryPlan } from './plan';
import { Rng } from './prng';
import {
  ORGANIZATIONS,
  PRACTITIONERS,
  npiQuery,
  organizationResource,
  practitionerResource,
  type OrganizationDefinition,
  type PractitionerDefinition,
} from './providers';
import { diseaseCourses, layOutTimeline, type Timeline } from './timeline';
import { DAY_MS, YEAR_MS, parseDate } from './time';

export const DEFAULT_RESOURCES_PER_PATIENT = 300;
export const DEFAULT_REFERENCE_DATE = '2026-01-01';

export interface PatientBundleOptions {
  readonly seed: number;
  readonly patientIndex: number;
  /** Entries in the bundle (default 300); met exactly unless below the minimum of 4. */
  readonly resourcesPerPatient?: number;
  /** 'YYYY-MM-DD'; all history lies before it and booked appointments after it (default 2026-01-01). */
  readonly referenceDate?: string;
  /**
   * How the shared provider directory is carried (default 'inline'):
   * - 'inline': the organisations and practitioners the patient sees are entries of the bundle,
   *   created conditionally (`ifNoneExist` on their NPI), so bundles are self-contained.
   * - 'reference': no directory entries; resources point at them with conditional references
   *   (`Practitioner?identifier=<npi system>|<npi>`), which the server resolves. Load
   *   `generateDirectoryBundle()` first. Useful where a server limits transactions that contain
   *   conditional creates (@medplum/fhir-router caps them at 8 entries).
   */
  readonly directory?: DirectoryMode;
}

export type DirectoryMode = 'inline' | 'reference';

export interface PatientBundlesOptions extends Omit<PatientBundleOptions, 'patientIndex'> {
  readonly patients: number;
  /** First patient index (default 0), so a run can be split into batches. */
  readonly firstIndex?: number;
}

/** Independent PRNG streams per patient: content draws never shift the ids, and vice versa. */
const STREAM = { content: 1, ids: 2, directory: 3 } as const;

function resolveTarget(resourcesPerPatient: number | undefined): number {
  const target = resourcesPerPatient ?? DEFAULT_RESOURCES_PER_PATIENT;
  if (!Number.isSafeInteger(target) || target < MINIMUM_RESOURCES) {
    throw new RangeError(`resourcesPerPatient must be an integer >= ${MINIMUM_RESOURCES}, got ${target}`);
  }
  return target;
}

function resolveDirectoryMode(directory: DirectoryMode | undefined): DirectoryMode {
  if (directory !== undefined && directory !== 'inline' && directory !== 'reference') {
    throw new RangeError(`directory must be 'inline' or 'reference', got '${String(directory)}'`);
  }
  return directory ?? 'inline';
}

/** Adds (or, in 'reference' mode, only refers to) the directory members the patient's history uses. */
function addProviders(entries: EntryList, plan: HistoryPlan, mode: DirectoryMode) {
  const practitioners = new Map<PractitionerDefinition, Reference<Practitioner>>();
  const organizations = new Map<OrganizationDefinition, Reference<Organization>>();
  for (const provider of plan.providers) {
    const ifNoneExist = npiQuery(provider);
    if ('specialty' in provider) {
      const ref = mode === 'inline' ? entries.add(practitionerResource(provider), { ifNoneExist }) : undefined;
      practitioners.set(provider, ref ?? { reference: `Practitioner?${ifNoneExist}` });
    } else {
      const ref = mode === 'inline' ? entries.add(organizationResource(provider), { ifNoneExist }) : undefined;
      organizations.set(provider, ref ?? { reference: `Organization?${ifNoneExist}` });
    }
  }
  return { practitioners, organizations };
}

/**
 * The whole provider directory (5 organisations, 20 practitioners) as conditional creates. A batch
 * by default: each entry is independent and idempotent, and servers that restrict conditional
 * creates inside transactions accept it.
 */
export function generateDirectoryBundle(type: 'batch' | 'transaction' = 'batch'): Bundle {
  const entries = new EntryList(new Rng(0, 0, STREAM.directory));
  for (const organization of ORGANIZATIONS) {
    entries.add(organizationResource(organization), { ifNoneExist: npiQuery(organization) });
  }
  for (const practitioner of PRACTITIONERS) {
    entries.add(practitionerResource(practitioner), { ifNoneExist: npiQuery(practitioner) });
  }
  return { resourceType: 'Bundle', type, entry: entries.entries };
}

function pcpOf(context: GenerationContext): Reference<Practitioner> {
  const pcp = context.practitioners.get(context.profile.pcp);
  if (!pcp) {
    throw new Error('The primary-care practitioner must be in the bundle');
  }
  return pcp;
}

/** The chronic condition, its prescriptions (a stopped first drug when switched) and its care plan. */
function addChronicCare(context: GenerationContext, chronic: ChronicPlan, timeline: Timeline): Reference<Condition> {
  const { entries, rng } = context;
  const clinical = clinicalContext(context);
  const pcp = pcpOf(context);
  const onset = timeline.onsets.get(chronic) ?? context.referenceMs - YEAR_MS;
  const condition = entries.add(chronicConditionResource(clinical, chronic.definition.condition, onset, pcp));
  const therapy = timeline.therapies.get(chronic);
  chronic.therapy.forEach((medication, i) => {
    const stopped = chronic.switched && i === 0;
    // Add-on drugs follow within months, but never after the reference date.
    const addOnDelay = i === 0 ? 0 : rng.int(0, 120) * DAY_MS;
    const authoredMs = Math.min((therapy?.start ?? onset) + addOnDelay, context.referenceMs - DAY_MS);
    const status = stopped ? 'stopped' : 'active';
    entries.add(
      medicationRequestResource(clinical, { medication, status, authoredMs, requester: pcp, reason: condition })
    );
  });
  const escalation = chronic.definition.escalation;
  if (chronic.switched && escalation) {
    const authoredMs = therapy?.switched ?? onset;
    entries.add(
      medicationRequestResource(clinical, {
        medication: escalation,
        status: 'active',
        authoredMs,
        requester: pcp,
        reason: condition,
      })
    );
  }
  if (chronic.carePlan) {
    const care = { patient: context.patient, utcOffset: context.profile.city.utcOffset };
    const start = therapy?.start ?? onset;
    const due = context.referenceMs + rng.int(90, 365) * DAY_MS;
    const goal = entries.add(goalResource(care, chronic.definition, start, due, condition));
    entries.add(carePlanResource(care, chronic.definition, start, { condition, goal, author: pcp }));
  }
  return condition;
}

function addPatientLevelItems(context: GenerationContext, plan: HistoryPlan, timeline: Timeline): void {
  const { entries, rng, profile, referenceMs } = context;
  const clinical = clinicalContext(context);
  const pcp = pcpOf(context);
  for (const allergy of plan.allergies) {
    const earliest = Math.max(profile.birthMs + YEAR_MS, timeline.historyStart - 3 * YEAR_MS);
    const recorded = rng.float(Math.min(earliest, referenceMs - 2 * DAY_MS), referenceMs - DAY_MS);
    entries.add(allergyResource(clinical, allergy, recorded, pcp));
  }
  for (const dose of plan.immunizations) {
    entries.add(immunizationResource(rng, dose, context.patient, profile.city.utcOffset));
  }
}

function addFutureAppointments(context: GenerationContext, timeline: Timeline): void {
  const care = { patient: context.patient, utcOffset: context.profile.city.utcOffset };
  for (const interval of timeline.futureAppointments) {
    // Booked on or before the reference date, however far ahead the slot is.
    const minimumAhead = Math.ceil((interval.start - context.referenceMs) / DAY_MS);
    context.entries.add(
      appointmentResource(care, {
        kind: context.profile.age >= 18 && context.rng.chance(0.5) ? 'CHECKUP' : 'FOLLOWUP',
        status: 'booked',
        interval,
        bookedDaysAhead: minimumAhead + context.rng.int(0, 30),
        description: 'Scheduled office visit',
        practitioner: pcpOf(context),
      })
    );
  }
}

export function generatePatientBundle(options: PatientBundleOptions): Bundle {
  const mrn = mrnOf(options.seed, options.patientIndex);
  const target = resolveTarget(options.resourcesPerPatient);
  const referenceMs = parseDate(options.referenceDate ?? DEFAULT_REFERENCE_DATE);
  const directory = resolveDirectoryMode(options.directory);
  const rng = new Rng(options.seed, options.patientIndex, STREAM.content);
  const entries = new EntryList(new Rng(options.seed, options.patientIndex, STREAM.ids));

  const profile = createProfile(rng, mrn, referenceMs);
  const physiology = new Physiology(rng, profile);
  const immunizations = scheduleImmunizations(rng, profile, referenceMs);
  const inlineDirectory = directory === 'inline';
  const plan = planHistory({ rng, profile, physiology, referenceMs, immunizations, target, inlineDirectory });
  const timeline = layOutTimeline(rng, profile, plan, referenceMs);
  physiology.setCourses(diseaseCourses(plan, timeline));

  const { practitioners, organizations } = addProviders(entries, plan, directory);
  const pcp = practitioners.get(profile.pcp);
  const clinic = organizations.get(profile.clinic);
  if (!pcp || !clinic) {
    throw new Error('The primary-care practitioner and clinic must be in the bundle');
  }
  const patient = entries.add(patientResource(rng, profile, options.patientIndex, { pcp, clinic }));
  const chronicConditions = new Map<ChronicPlan, Reference<Condition>>();
  const context: GenerationContext = {
    rng,
    entries,
    profile,
    physiology,
    referenceMs,
    patient,
    practitioners,
    organizations,
    chronicConditions,
  };
  for (const chronic of plan.chronic) {
    chronicConditions.set(chronic, addChronicCare(context, chronic, timeline));
  }
  addPatientLevelItems(context, plan, timeline);
  plan.visits.forEach((visit, i) => {
    const interval = timeline.visits[i];
    if (interval) {
      addVisit(context, visit, interval);
    }
  });
  addFutureAppointments(context, timeline);
  return { resourceType: 'Bundle', type: 'transaction', entry: entries.entries };
}

function* bundles(options: PatientBundlesOptions, firstIndex: number): Generator<Bundle, void, undefined> {
  const { seed, resourcesPerPatient, referenceDate, directory } = options;
  for (let i = 0; i < options.patients; i++) {
    yield generatePatientBundle({ seed, patientIndex: firstIndex + i, resourcesPerPatient, referenceDate, directory });
  }
}

/**
 * Lazily yields one bundle per patient, so callers can stream thousands without holding them.
 * Options are validated eagerly, when called, rather than on the first `next()`.
 */
export function generatePatientBundles(options: PatientBundlesOptions): Generator<Bundle, void, undefined> {
  const firstIndex = options.firstIndex ?? 0;
  if (!Number.isSafeInteger(options.patients) || options.patients < 0) {
    throw new RangeError(`patients must be a non-negative integer, got ${options.patients}`);
  }
  mrnOf(options.seed, firstIndex);
  resolveTarget(options.resourcesPerPatient);
  parseDate(options.referenceDate ?? DEFAULT_REFERENCE_DATE);
  resolveDirectoryMode(options.directory);
  return bundles(options, firstIndex);
}
