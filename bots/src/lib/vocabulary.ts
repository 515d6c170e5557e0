/**
 * The URLs and codes the bots read and write. Hale's own ones are published from fhir-profiles/ (CodeSystems,
 * ValueSets, profiles, extensions); vocabulary.test.ts fails when the two drift apart. Kept free of imports so
 * that the server (e.g. the inbound-SMS webhook) can use it too.
 */
export const HALE_FHIR = 'https://hale.health/fhir';

const sd = (name: string): string => `${HALE_FHIR}/StructureDefinition/${name}`;
const cs = (name: string): string => `${HALE_FHIR}/CodeSystem/${name}`;

/** Profiles. */
export const CLINICAL_RULE_PROFILE = sd('hale-clinical-rule');
export const PREFERENCES_PROFILE = sd('hale-communication-preferences');

/** Extensions. */
export const EXT = {
  criterion: sd('clinical-rule-criterion'),
  rulePatient: sd('clinical-rule-patient'),
  preferredChannel: sd('communication-preferred-channel'),
  channelOptOut: sd('communication-channel-opt-out'),
  quietHours: sd('communication-quiet-hours'),
  categoryPreference: sd('communication-category-preference'),
  language: sd('communication-language'),
  slotHoldExpires: sd('slot-hold-expires'),
  notBefore: sd('communication-not-before'),
} as const;

/** Every StructureDefinition the bots rely on (fhir-profiles publishes them). */
export const BOT_STRUCTURE_DEFINITIONS: readonly string[] = [
  CLINICAL_RULE_PROFILE,
  PREFERENCES_PROFILE,
  ...Object.values(EXT),
];

/** Hale CodeSystems. */
export const SYSTEM = {
  basicCode: cs('basic-code'),
  ruleOperator: cs('clinical-rule-operator'),
  ruleAction: cs('clinical-rule-action'),
  ruleSeverity: cs('clinical-rule-severity'),
  notificationCategory: cs('notification-category'),
  statusReason: cs('status-reason'),
  flagCode: cs('flag-code'),
  observationCode: cs('observation-code'),
  taskCode: cs('task-code'),
  relationshipType: cs('relationship-type'),
} as const;

/** Identifier system of the keys that make the bots' writes idempotent (createResourceIfNoneExist on it). */
export const BOT_KEY_SYSTEM = `${HALE_FHIR}/sid/bot-key`;

export const COMMUNICATION_PREFERENCES = 'communication-preferences';
export const DATA_SHARING_REQUEST = 'data-sharing-request';

export const RULE_OPERATORS = [
  '>',
  '>=',
  '<',
  '<=',
  'increase',
  'decrease',
  'trendUp',
  'trendDown',
  'missing',
] as const;
export type RuleOperator = (typeof RULE_OPERATORS)[number];

export const RULE_ACTIONS = ['alert', 'suggest_visit', 'assign_task', 'assign_content'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

export const RULE_SEVERITIES = ['info', 'warn', 'critical'] as const;
export type RuleSeverity = (typeof RULE_SEVERITIES)[number];

export const NOTIFICATION_CATEGORIES = [
  'care-alert',
  'care-content',
  'appointment-reminder',
  'weekly-summary',
  'data-sharing-request',
  'access-ended',
  'slot-hold-expired',
  // Written by the server's scheduling, messaging and intake operations (their notices), sent by the dispatcher.
  'message-received',
  'slot-offered',
  'visit-request',
  'visit-request-answered',
  'intake-assigned',
  'intake-completed',
] as const;
export type NotificationCategory = (typeof NOTIFICATION_CATEGORIES)[number];

export const STATUS_REASONS = ['opted-out', 'no-address', 'send-failed', 'quiet-hours', 'sending', 'expired'] as const;
export type StatusReason = (typeof STATUS_REASONS)[number];

export const FLAG_CODES = ['clinical-rule-alert', 'weight-management-eligible'] as const;
export const OBSERVATION_CODES = [
  'hrv-rmssd',
  'mood',
  'sleep-deep',
  'sleep-light',
  'sleep-rem',
  'sleep-awake',
] as const;
export const BASIC_CODES = [COMMUNICATION_PREFERENCES] as const;

/** Notification channels: ContactPoint.system codes. */
export const CHANNELS = ['email', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Standard systems. */
export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
export const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
export const UCUM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const COMMUNICATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/communication-category';
export const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
export const PLAN_DEFINITION_TYPE = 'http://terminology.hl7.org/CodeSystem/plan-definition-type';
export const USAGE_CONTEXT_TYPE = 'http://terminology.hl7.org/CodeSystem/usage-context-type';
export const FLAG_CATEGORY = 'http://terminology.hl7.org/CodeSystem/flag-category';
export const FLAG_PRIORITY_EXT = 'http://hl7.org/fhir/StructureDefinition/flag-priority';
export const FLAG_PRIORITY_SYSTEM = 'http://hl7.org/fhir/flag-priority-code';
export const FLAG_DETAIL_EXT = 'http://hl7.org/fhir/StructureDefinition/flag-detail';
export const PARTICIPATION_MODE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationMode';

/** LOINC codes the bots read or write. */
export const LOINC_CODE = {
  bpPanel: '85354-9',
  systolic: '8480-6',
  diastolic: '8462-4',
  glucoseBlood: '2339-0',
  glucoseSerum: '2345-7',
  fastingGlucose: '1558-6',
  bodyWeight: '29463-7',
  bodyHeight: '8302-2',
  bmi: '39156-5',
  restingHeartRate: '40443-4',
  heartRate: '8867-4',
  sdnn: '80404-7',
  steps: '41950-7',
  stepsPedometer: '55423-8',
  sleepDuration: '93832-4',
  patientSummary: '60591-5',
} as const;
