import { HALE_FHIR } from '../access/consent/vocabulary';

/** Slot.identifier system of generated slots: value `<schedule id>/<start, UTC ISO>`, one slot per schedule and start. */
export const SLOT_ID_SYSTEM = `${HALE_FHIR}/sid/slot`;

/** When a hold on a busy-tentative Slot lapses (fhir-profiles/structuredefinitions/slot-hold-expires.json). */
export const HOLD_EXPIRES_EXT = `${HALE_FHIR}/StructureDefinition/slot-hold-expires`;

/** The codes of the scheduling rules an OperationOutcome names (docs/scheduling.md lists them). */
export const SCHEDULING_RULE_SYSTEM = `${HALE_FHIR}/CodeSystem/scheduling-rule`;

/** Notification categories (bots/src/lib/vocabulary.ts NOTIFICATION_CATEGORIES) and their codings. */
export const NOTIFICATION_CATEGORY_SYSTEM = `${HALE_FHIR}/CodeSystem/notification-category`;
export const COMMUNICATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/communication-category';
export const SLOT_OFFERED = 'slot-offered';

/** Task.code of a reschedule request: FHIR task-code `change` (change the focal Appointment). */
export const TASK_CODE_SYSTEM = 'http://hl7.org/fhir/CodeSystem/task-code';
export const RESCHEDULE_TASK_CODE = 'change';
/** Task.input type of the slot a reschedule asks for. */
export const RESCHEDULE_INPUT = `${HALE_FHIR}/CodeSystem/scheduling-input`;

/** Communication.category of a secure message and of its thread (server/src/messaging, docs/messaging.md). */
export const MESSAGE_CATEGORY_SYSTEM = `${HALE_FHIR}/CodeSystem/message-category`;

/** Task.code of a visit request (Hale task-code `visit-request`, docs/scheduling.md "Visit requests"). */
export const HALE_TASK_CODE_SYSTEM = `${HALE_FHIR}/CodeSystem/task-code`;
export const VISIT_REQUEST_CODE = 'visit-request';
/** Task.code of an intake form assigned to a patient (server/src/intake). */
export const INTAKE_CODE = 'intake';
/** Task.input / Task.output types of a visit request: severity, preferred-time, triage-answers, appointment. */
export const VISIT_REQUEST_PART = `${HALE_FHIR}/CodeSystem/visit-request-part`;
/** The triage severities a patient's answers end in, least to most urgent. */
export const TRIAGE_SEVERITY_SYSTEM = `${HALE_FHIR}/CodeSystem/triage-severity`;
export const TRIAGE_SEVERITIES = ['routine', 'soon', 'urgent', 'emergency'] as const;
export type TriageSeverity = (typeof TRIAGE_SEVERITIES)[number];
/** Notification categories of a visit request: a new one for the provider, an answer for the patient. */
export const VISIT_REQUESTED = 'visit-request';
export const VISIT_REQUEST_ANSWERED = 'visit-request-answered';

/** Marks a Slot inside a window its provider blocked ($block): unavailable now, or as soon as it is freed. */
export const SLOT_BLOCKED_EXT = `${HALE_FHIR}/StructureDefinition/slot-blocked`;
