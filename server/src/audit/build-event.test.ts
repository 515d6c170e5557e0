import type { Bundle, Observation } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../fhir/definitions';
import { validateResourceForWrite } from '../validation/validate';
import type { AuditFacts } from './build-event';
import { RESOURCE_CAP, buildAuditEvents } from './build-event';
import { classifyRequest } from './interaction';
import { addRequest, addResponse, emptyInvolved } from './involved';

const BASE = 'https://hale.example.org/fhir/R4';

beforeAll(() => {
  loadFhirDefinitions();
});

const facts = (over: Partial<AuditFacts>): AuditFacts => ({
  request: { interaction: 'read', resourceType: 'Patient', id: 'p1' },
  status: 200,
  recorded: '2025-01-02T03:04:05.000Z',
  caller: { fhirUser: 'Practitioner/dr', subject: 'acc-1', clientId: 'app-1' },
  involved: emptyInvolved(),
  site: BASE,
  ...over,
});

const obs = (id: string, patient: string): Observation => ({
  resourceType: 'Observation',
  id,
  meta: { versionId: '2' },
  status: 'final',
  code: { text: 'x' },
  subject: { reference: `Patient/${patient}` },
});

describe('classifyRequest', () => {
  test.each([
    ['GET', 'Patient/1', 'read'],
    ['GET', 'Patient/1/_history/2', 'vread'],
    ['GET', 'Patient/1/_history', 'history-instance'],
    ['GET', 'Patient/_history', 'history-type'],
    ['GET', '_history', 'history-system'],
    ['GET', 'Observation', 'search-type'],
    ['POST', 'Observation/_search', 'search-type'],
    ['GET', '', 'search-system'],
    ['POST', 'Observation', 'create'],
    ['PUT', 'Observation/1', 'update'],
    ['PUT', 'Observation', 'update'],
    ['PATCH', 'Observation/1', 'patch'],
    ['DELETE', 'Observation/1', 'delete'],
    ['GET', 'Patient/1/$everything', 'operation'],
    ['POST', '$graphql', 'operation'],
    ['POST', '', 'batch'],
  ])('%s %s is %s', (method, path, interaction) => {
    expect(classifyRequest(method, path, undefined).interaction).toBe(interaction);
  });
  test('a POSTed transaction Bundle is a transaction', () => {
    expect(classifyRequest('POST', '', { resourceType: 'Bundle', type: 'transaction' }).interaction).toBe(
      'transaction'
    );
  });
});

describe('who and what a request touched', () => {
  test('the response names the patients of each resource; the request names the ones asked for', () => {
    const involved = emptyInvolved();
    const request = classifyRequest('GET', 'Observation', undefined);
    addRequest(
      involved,
      request,
      { 'subject:Patient': 'p3', subject: 'Group/g', patient: `${BASE}/Patient/p4` },
      undefined,
      BASE
    );
    const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: obs('o1', 'p1') }] };
    addResponse(involved, bundle, BASE);
    expect([...involved.patients].sort()).toEqual(['p1', 'p3', 'p4']);
    expect(involved.resources.get('Observation/o1/_history/2')).toEqual(['p1']);
  });
});

describe('buildAuditEvents', () => {
  test('builds a valid R4 AuditEvent', () => {
    const involved = emptyInvolved();
    addResponse(involved, obs('o1', 'p1'), BASE);
    const [event] = buildAuditEvents(
      facts({ involved, basisFor: () => ['Consent/c1/_history/3'], requestId: 'r1', address: '10.0.0.1' })
    );
    expect(() => validateResourceForWrite({ ...event, id: 'a1' } as never)).not.toThrow();
    expect(event?.agent[0]).toMatchObject({
      who: { reference: 'Practitioner/dr' },
      altId: 'acc-1',
      policy: ['Consent/c1/_history/3'],
    });
  });

  test('status maps to outcome 0, 4 or 8', () => {
    expect(buildAuditEvents(facts({ status: 201 }))[0]?.outcome).toBe('0');
    expect(buildAuditEvents(facts({ status: 403 }))[0]?.outcome).toBe('4');
    expect(buildAuditEvents(facts({ status: 503 }))[0]?.outcome).toBe('8');
  });

  test('lists at most RESOURCE_CAP resources and says how many there were', () => {
    const involved = emptyInvolved();
    const entry = Array.from({ length: RESOURCE_CAP + 7 }, (_, i) => ({ resource: obs(`o${i}`, 'p1') }));
    addResponse(involved, { resourceType: 'Bundle', type: 'searchset', entry }, BASE);
    const [event] = buildAuditEvents(facts({ involved, request: { interaction: 'search-type' }, url: '/x' }));
    expect(event?.entity?.filter((e) => e.role?.code === '4')).toHaveLength(RESOURCE_CAP);
    expect(event?.entity?.some((e) => e.detail?.[0]?.valueString === String(RESOURCE_CAP + 7))).toBe(true);
  });

  test("a patient acting on another patient's data is named by account, so the event is not in their compartment", () => {
    const involved = emptyInvolved();
    involved.patients.add('p2');
    const [event] = buildAuditEvents(
      facts({ involved, caller: { fhirUser: 'Patient/p1', subject: 'acc', clientId: 'app' } })
    );
    expect(event?.agent[0]?.who).toEqual({
      identifier: { system: expect.any(String), value: 'acc' },
      display: 'Patient/p1',
    });
  });
});
