import type {
  Appointment,
  Bundle,
  CarePlan,
  Coding,
  Flag,
  Goal,
  GoalTarget,
  Observation,
  Parameters,
  ParametersParameter,
  Resource,
} from '@medplum/fhirtypes';
import { CATEGORY_DEFINITIONS } from '../access/consent/categories';
import { CATEGORY_SYSTEM, HALE_FHIR } from '../access/consent/vocabulary';
import { parseHaleSearch } from '../fhir/search-request';
import type { HaleRepository } from '../storage/repository';
import { lastN } from './lastn';

/** Upcoming appointments and unread messages the dashboard lists at most. */
const UPCOMING = 5;
const UNREAD = 50;
/** The phase of the plan a CarePlan activity belongs to (fhir-profiles/structuredefinitions/care-plan-phase.json). */
export const CARE_PLAN_PHASE_EXTENSION = `${HALE_FHIR}/StructureDefinition/care-plan-phase`;
/** The care record's StructureDefinitions in fhir-profiles/ (checked against what is published). */
export const CARE_STRUCTURE_DEFINITIONS: readonly string[] = [CARE_PLAN_PHASE_EXTENSION];

/**
 * Patient/$summary: what the portal's dashboard shows, in one request — the latest reading of each vital and
 * wellness code, active goals with the latest reading of what they measure, active care plans with their phase,
 * open alerts (Flags), upcoming appointments and unread messages. Every part is an ordinary search through the
 * caller's repository, so Consent limits it exactly as it limits a search; `withheld` names the sharing
 * categories the patient's Consents give the caller none of, so a provider's dashboard can say what it leaves out.
 */
export async function patientSummary(repo: HaleRepository, patientId: string, now: Date): Promise<Parameters> {
  const patient = `Patient/${patientId}`;
  const vitals = await lastN(repo.queryable, repo.ctx, {
    filters: parseHaleSearch('Observation', { patient: patientId, category: vitalCategories() }).filters ?? [],
    codes: undefined,
    max: 1,
  });
  const goals = await search<Goal>(repo, 'Goal', { patient: patientId, 'lifecycle-status': 'active,accepted' });
  const progress = await goalProgress(repo, patientId, goals);
  const plans = await search<CarePlan>(repo, 'CarePlan', { patient: patientId, status: 'active' });
  // Flag has no status search parameter in R4: the open ones are picked here.
  const alerts = (await search<Flag>(repo, 'Flag', { patient: patientId })).filter((f) => f.status === 'active');
  const appointments = await search<Appointment>(repo, 'Appointment', {
    patient: patientId,
    date: `ge${now.toISOString()}`,
    status: 'proposed,pending,booked',
    _sort: 'date',
    _count: String(UPCOMING),
  });
  const unread = await search<Resource>(repo, 'Communication', {
    recipient: patient,
    'received:missing': 'true',
    'part-of:missing': 'false',
    _count: String(UNREAD),
  });
  const withheld = repo.ctx.access.withheldCategories?.(patientId) ?? [];
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'vitals', resource: vitals },
      ...goals.map((goal) => ({
        name: 'goal',
        part: [{ name: 'goal', resource: goal }, ...(progress.get(goal) ?? [])],
      })),
      ...plans.map((plan) => ({ name: 'carePlan', part: carePlanParts(plan) })),
      ...alerts.map((flag) => ({ name: 'alert', resource: flag })),
      ...appointments.map((a) => ({ name: 'appointment', resource: a })),
      { name: 'unreadMessages', valueInteger: unread.length },
      ...withheld.map((code) => ({ name: 'withheld', valueCoding: { system: CATEGORY_SYSTEM, code } })),
    ],
  };
}

/** The Observation categories the "vitals" sharing category covers, as one comma-separated token list. */
function vitalCategories(): string {
  return CATEGORY_DEFINITIONS.vitals.observationCategories.map((c) => `${c.system}|${c.code}`).join(',');
}

async function search<T extends Resource>(
  repo: HaleRepository,
  resourceType: string,
  query: Record<string, string>
): Promise<T[]> {
  const bundle: Bundle = await repo.search(parseHaleSearch(resourceType, query));
  return (bundle.entry ?? []).flatMap((e) =>
    e.resource && (e.search?.mode ?? 'match') === 'match' ? [e.resource as T] : []
  );
}

/**
 * Per goal, for each target with a measure: the latest reading of that code (one $lastn for all the goals'
 * measures) and whether it meets the target's quantity or range.
 */
async function goalProgress(
  repo: HaleRepository,
  patientId: string,
  goals: readonly Goal[]
): Promise<Map<Goal, ParametersParameter[]>> {
  const measures = new Map<string, Coding>();
  for (const target of goals.flatMap((g) => g.target ?? [])) {
    for (const coding of target.measure?.coding ?? []) {
      if (coding.code) {
        measures.set(tokenOf(coding), coding);
      }
    }
  }
  const latest =
    measures.size === 0
      ? []
      : (
          (
            await lastN(repo.queryable, repo.ctx, {
              filters: parseHaleSearch('Observation', { patient: patientId }).filters ?? [],
              codes: [...measures.keys()],
              max: 1,
            })
          ).entry ?? []
        ).map((e) => e.resource as Observation);
  const result = new Map<Goal, ParametersParameter[]>();
  for (const goal of goals) {
    result.set(
      goal,
      (goal.target ?? []).flatMap((target) => {
        const reading = latest.find((o) => sameCode(o, target));
        return target.measure ? [{ name: 'progress', part: progressParts(target, reading) }] : [];
      })
    );
  }
  return result;
}

function progressParts(target: GoalTarget, reading: Observation | undefined): ParametersParameter[] {
  const value = reading?.valueQuantity?.value;
  const achieved = value === undefined ? undefined : meets(target, value);
  return [
    { name: 'measure', valueCodeableConcept: target.measure },
    ...(reading ? [{ name: 'latest', valueReference: { reference: `Observation/${reading.id}` } }] : []),
    ...(reading?.valueQuantity ? [{ name: 'value', valueQuantity: reading.valueQuantity }] : []),
    ...(achieved !== undefined ? [{ name: 'achieved', valueBoolean: achieved }] : []),
  ];
}

/** A reading meets a target range (either bound may be open) or a target quantity (at most, "≤", or exactly). */
function meets(target: GoalTarget, value: number): boolean | undefined {
  const range = target.detailRange;
  if (range && (range.low?.value !== undefined || range.high?.value !== undefined)) {
    return (
      (range.low?.value === undefined || value >= range.low.value) &&
      (range.high?.value === undefined || value <= range.high.value)
    );
  }
  const q = target.detailQuantity;
  if (q?.value === undefined) {
    return undefined;
  }
  switch (q.comparator) {
    case '<':
      return value < q.value;
    case '<=':
      return value <= q.value;
    case '>':
      return value > q.value;
    case '>=':
      return value >= q.value;
    default:
      return value === q.value;
  }
}

function sameCode(o: Observation, target: GoalTarget): boolean {
  return (o.code.coding ?? []).some((c) =>
    (target.measure?.coding ?? []).some((m) => m.code === c.code && (!m.system || m.system === c.system))
  );
}

function tokenOf(c: Coding): string {
  const esc = (s: string): string => s.replace(/[\\|,$]/g, (x) => `\\${x}`);
  return c.system ? `${esc(c.system)}|${esc(c.code ?? '')}` : esc(c.code ?? '');
}

/**
 * A care plan and its phase: that of the activity in progress (else the next not started or scheduled) — its
 * care-plan-phase extension, else its description — as the patient's dashboard names where they are in the plan.
 */
function carePlanParts(plan: CarePlan): ParametersParameter[] {
  const activities = plan.activity ?? [];
  const current =
    activities.find((a) => a.detail?.status === 'in-progress') ??
    activities.find((a) => a.detail?.status === 'not-started' || a.detail?.status === 'scheduled');
  const phase =
    current?.extension?.find((e) => e.url === CARE_PLAN_PHASE_EXTENSION)?.valueString ??
    current?.detail?.description ??
    current?.detail?.code?.text ??
    current?.detail?.code?.coding?.[0]?.display;
  return [{ name: 'carePlan', resource: plan }, ...(phase ? [{ name: 'phase', valueString: phase }] : [])];
}
