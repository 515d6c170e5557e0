import type { WithId } from '@medplum/core';
import type { DiagnosticReport, Parameters, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { invalid } from '../fhir/operations/parameters';
import type { SchedulingContext } from '../scheduling/caller';
import { RULES, refused } from '../scheduling/rules';
import { lockServiceRequest } from '../scheduling/store';
import { orderFor } from './party';

/**
 * ServiceRequest/{id}/$submit-result (docs/orders.md): the performer of an active order hands in its
 * result, a DiagnosticReport. The server writes it into the patient's record — the partner has no
 * write access there — with `subject` the order's patient, `basedOn` the order and `performer` the
 * order's performer, so a partner cannot file a result into another record or against another order.
 * A final (or amended, corrected) report completes the order; a preliminary one leaves it active for
 * the final one. Under the order's row lock: of two finals at once, one completes it.
 */

const FINAL: readonly DiagnosticReport['status'][] = ['final', 'amended', 'corrected', 'appended'];
const ACCEPTED: readonly DiagnosticReport['status'][] = ['registered', 'partial', 'preliminary', ...FINAL];

/** Every reference in the report (contained resources included), with where it is. */
function referencesIn(value: unknown, path: string, out: { path: string; reference: string }[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => referencesIn(v, `${path}[${i}]`, out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'reference' && typeof v === 'string') {
        out.push({ path, reference: v });
      } else {
        referencesIn(v, path ? `${path}.${key}` : key, out);
      }
    }
  }
}

/**
 * The report as stored, or 422 result-mismatch when it names another patient, another order or any
 * resource outside itself: results and specimens travel as contained resources.
 */
function checkedReport(
  order: WithId<ServiceRequest>,
  report: Resource,
  performer: string | undefined
): DiagnosticReport {
  if (report.resourceType !== 'DiagnosticReport') {
    throw invalid("'report' must be a DiagnosticReport");
  }
  if (!ACCEPTED.includes(report.status)) {
    throw invalid(`A result's status must be one of ${ACCEPTED.join(', ')}`);
  }
  const self = `ServiceRequest/${order.id}`;
  const patient = order.subject?.reference ?? '';
  const { id: _id, meta: _meta, subject, basedOn, performer: _performer, ...rest } = report;
  if (subject && subject.reference !== patient) {
    throw refused(RULES.resultMismatch, `The result's subject must be the order's patient (${patient})`);
  }
  if ((basedOn ?? []).some((b) => b.reference !== self)) {
    throw refused(RULES.resultMismatch, `The result may be based only on this order (${self})`);
  }
  const refs: { path: string; reference: string }[] = [];
  referencesIn(rest, '', refs);
  const allowed = new Set([patient, self]);
  const stray = refs.find((r) => !r.reference.startsWith('#') && !allowed.has(r.reference));
  if (stray) {
    throw refused(
      RULES.resultMismatch,
      `The result references ${stray.reference} (${stray.path}): it may name only the order, its patient and resources it contains`
    );
  }
  const performers: NonNullable<DiagnosticReport['performer']> = [
    ...(order.performer ?? []).map((p) => ({ reference: p.reference })),
    ...(performer && !(order.performer ?? []).some((p) => p.reference === performer) ? [{ reference: performer }] : []),
  ];
  return {
    ...rest,
    resourceType: 'DiagnosticReport',
    status: report.status,
    code: report.code ?? order.code ?? { text: 'Result' },
    subject: { reference: patient },
    basedOn: [{ reference: self }],
    performer: performers,
  };
}

export async function submitResult(ctx: SchedulingContext, id: string, report: Resource): Promise<Parameters> {
  const { order: read } = await orderFor(
    ctx,
    id,
    ['performer', 'system'],
    'the partner or practitioner the order is for'
  );
  const me = ctx.caller.claims.fhirUser;
  const performer = me && /^(Practitioner|PractitionerRole)\//.test(me) ? me : undefined;
  const stored = checkedReport(read, report, performer);
  return ctx.system.withTransaction(async (tx) => {
    const order = await lockServiceRequest(tx, id);
    if (order.status !== 'active') {
      throw refused(RULES.orderTransition, `An order in status '${order.status}' takes no result (allowed: active)`);
    }
    const created = await tx.createResource<DiagnosticReport>(stored);
    const next = FINAL.includes(created.status)
      ? await tx.updateResource<ServiceRequest>({ ...order, status: 'completed' })
      : order;
    return {
      resourceType: 'Parameters',
      parameter: [
        { name: 'serviceRequest', resource: next },
        { name: 'report', resource: created },
      ],
    };
  });
}
