import type { ContextScope, ResourceScope } from './scopes';
import { parseScope } from './scopes';

/**
 * Scopes in plain words for the consent screen: people approve what they understand
 * ("Read your vital signs"), not `patient/Observation.rs?category=…`.
 */

const TYPE_WORDS: Record<string, string> = {
  AllergyIntolerance: 'allergies',
  Appointment: 'appointments',
  CarePlan: 'care plans',
  CareTeam: 'care team',
  Condition: 'conditions and diagnoses',
  Consent: 'sharing permissions',
  Coverage: 'insurance coverage',
  Device: 'devices',
  DiagnosticReport: 'test reports',
  DocumentReference: 'documents',
  Encounter: 'visits',
  FamilyMemberHistory: 'family health history',
  Goal: 'goals',
  Immunization: 'immunizations',
  Medication: 'medication information',
  MedicationAdministration: 'medications given',
  MedicationDispense: 'medications dispensed',
  MedicationRequest: 'medications',
  MedicationStatement: 'medication list',
  NutritionOrder: 'nutrition plans',
  Observation: 'measurements and test results',
  Organization: 'organizations',
  Patient: 'profile',
  Practitioner: 'care providers',
  PractitionerRole: 'care providers',
  Procedure: 'procedures',
  Questionnaire: 'questionnaires',
  QuestionnaireResponse: 'questionnaire answers',
  RelatedPerson: 'related people',
  ServiceRequest: 'referrals and orders',
};

const CODE_WORDS: Record<string, string> = {
  'vital-signs': 'vital signs',
  laboratory: 'lab results',
  'social-history': 'social history',
  activity: 'activity data',
  imaging: 'imaging results',
  survey: 'survey answers',
  exam: 'exam findings',
  therapy: 'therapy records',
  procedure: 'procedure results',
  'problem-list-item': 'problem list',
  'encounter-diagnosis': 'visit diagnoses',
  'health-concern': 'health concerns',
};

const CONTEXT_WORDS: Record<ContextScope, string> = {
  openid: 'Confirm who you are to the app',
  fhirUser: 'Know which profile record is yours',
  profile: 'See your name and profile record',
  launch: 'Open in the context Hale launched it with',
  'launch/patient': 'Know which patient record it is working with',
  'launch/encounter': 'Know which visit it is working with',
  offline_access: 'Keep access when you are not using it, until you revoke it',
  online_access: 'Keep access while you are signed in to Hale',
};

/** Whose data a resource scope reaches, in the words of the person approving it. */
export type Audience = 'own-record' | 'patient-record';

export function describeScope(scope: string, audience: Audience): string {
  const parsed = parseScope(scope);
  if (!parsed) {
    return scope;
  }
  return 'context' in parsed ? CONTEXT_WORDS[parsed.context] : describeResource(parsed.resource, audience);
}

function describeResource(r: ResourceScope, audience: Audience): string {
  const what = subject(r);
  const whose =
    r.context === 'system'
      ? 'all'
      : r.context === 'user'
        ? audience === 'own-record'
          ? 'your'
          : 'the'
        : audience === 'own-record'
          ? 'your'
          : "the patient's";
  const where = r.context === 'user' && audience === 'patient-record' ? ' you have access to' : '';
  return `${verbs(r.permissions)} ${whose} ${what}${where}`;
}

function subject(r: ResourceScope): string {
  if (r.resourceType === '*') {
    return r.params ? 'records matching ' + restriction(r.params) : 'health record (everything in it)';
  }
  const base = TYPE_WORDS[r.resourceType] ?? splitWords(r.resourceType);
  if (!r.params) {
    return base;
  }
  const single = r.params.length === 1 ? r.params[0] : undefined;
  const code = single && single[0] === 'category' ? single[1].split('|').pop() : undefined;
  const named = code ? CODE_WORDS[code] : undefined;
  return named ?? `${base} (only where ${restriction(r.params)})`;
}

function restriction(params: readonly [string, string][]): string {
  return params.map(([code, value]) => `${code} is ${value.split('|').pop() ?? value}`).join(' and ');
}

function verbs(p: ReadonlySet<string>): string {
  const read = p.has('r') || p.has('s');
  if (p.has('c') && p.has('u') && p.has('d')) {
    return read ? 'Read and write' : 'Write';
  }
  const parts = [read ? 'read' : '', p.has('c') ? 'add to' : '', p.has('u') ? 'change' : '', p.has('d') ? 'delete' : '']
    .filter(Boolean)
    .join(', ')
    .replace(/, ([^,]*)$/, ' and $1');
  return parts.charAt(0).toUpperCase() + parts.slice(1);
}

function splitWords(type: string): string {
  return type.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() + ' records';
}
