import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import type { HaleRepository } from '../../storage/repository';
import { appointmentAgendaHandler, appointmentAgendaOperation } from './appointment-agenda';
import { appointmentBookHandler, appointmentBookOperation } from './appointment-book';
import { appointmentCancelHandler, appointmentCancelOperation } from './appointment-cancel';
import { appointmentConfirmHandler, appointmentConfirmOperation } from './appointment-confirm';
import { appointmentNoShowHandler, appointmentNoShowOperation } from './appointment-no-show';
import { appointmentRescheduleHandler, appointmentRescheduleOperation } from './appointment-reschedule';
import { appointmentSubmitFeedbackHandler, appointmentSubmitFeedbackOperation } from './appointment-submit-feedback';
import {
  appointmentRescheduleDecisionHandler,
  appointmentRescheduleDecisionOperation,
} from './appointment-reschedule-decision';
import {
  communicationMarkReadHandler,
  communicationMarkReadOperation,
  communicationMessagesHandler,
  communicationMessagesOperation,
} from './communication-thread-messages';
import { communicationSendMessageHandler, communicationSendMessageOperation } from './communication-send-message';
import { communicationThreadsHandler, communicationThreadsOperation } from './communication-threads';
import {
  appointmentFinishVisitHandler,
  appointmentFinishVisitOperation,
  appointmentJoinHandler,
  appointmentJoinOperation,
  appointmentStartVisitHandler,
  appointmentStartVisitOperation,
} from './appointment-visit';
import type { OperationDeps } from './context';
import { documentExcuseNoteHandler, documentExcuseNoteOperation } from './document-excuse-note';
import { scheduleBlockHandler, scheduleBlockOperation } from './schedule-block';
import { scheduleFindSlotsHandler, scheduleFindSlotsOperation } from './schedule-find-slots';
import { scheduleGenerateSlotsHandler, scheduleGenerateSlotsOperation } from './schedule-generate-slots';
import { scheduleUnblockHandler, scheduleUnblockOperation } from './schedule-unblock';
import { scheduleWaitlistHandler, scheduleWaitlistOperation } from './schedule-waitlist';
import {
  serviceRequestActivateHandler,
  serviceRequestActivateOperation,
  serviceRequestOrderHandler,
  serviceRequestOrderOperation,
  serviceRequestRevokeHandler,
  serviceRequestRevokeOperation,
  serviceRequestSubmitResultHandler,
  serviceRequestSubmitResultOperation,
} from './service-request-orders';
import { slotHoldHandler, slotHoldOperation } from './slot-hold';
import { taskAssignIntakeHandler, taskAssignIntakeOperation } from './task-assign-intake';
import { taskRequestVisitHandler, taskRequestVisitOperation } from './task-request-visit';
import { taskSubmitIntakeHandler, taskSubmitIntakeOperation } from './task-submit-intake';
import { taskTriageHandler, taskTriageOperation } from './task-triage';
import { taskVisitRequestsHandler, taskVisitRequestsOperation } from './task-visit-requests';
import { taskWithdrawHandler, taskWithdrawOperation } from './task-withdraw';

type Handler = (req: FhirRequest, repo: HaleRepository, deps: OperationDeps) => Promise<FhirResponse>;

/**
 * The scheduling, messaging and order operations (docs/scheduling.md, docs/messaging.md,
 * docs/orders.md; logic in server/src/scheduling/, messaging/, telehealth/ and orders/), as router.ts adds them.
 */
export const SCHEDULING_ROUTES: readonly [method: 'GET' | 'POST', path: string, handler: Handler][] = [
  ['POST', 'Schedule/:id/$generate-slots', scheduleGenerateSlotsHandler],
  ['GET', 'Schedule/:id/$find-slots', scheduleFindSlotsHandler],
  ['POST', 'Schedule/:id/$waitlist', scheduleWaitlistHandler],
  ['POST', 'Schedule/:id/$block', scheduleBlockHandler],
  ['POST', 'Schedule/:id/$unblock', scheduleUnblockHandler],
  ['POST', 'Slot/:id/$hold', slotHoldHandler],
  ['GET', 'Appointment/$agenda', appointmentAgendaHandler],
  ['POST', 'Appointment/$book', appointmentBookHandler],
  ['POST', 'Appointment/:id/$confirm', appointmentConfirmHandler],
  ['POST', 'Appointment/:id/$cancel', appointmentCancelHandler],
  ['POST', 'Appointment/:id/$no-show', appointmentNoShowHandler],
  ['POST', 'Appointment/:id/$reschedule', appointmentRescheduleHandler],
  ['POST', 'Appointment/:id/$reschedule-decision', appointmentRescheduleDecisionHandler],
  ['POST', 'Appointment/:id/$submit-feedback', appointmentSubmitFeedbackHandler],
  ['GET', 'Appointment/:id/$join', appointmentJoinHandler],
  ['POST', 'Appointment/:id/$join', appointmentJoinHandler],
  ['POST', 'Appointment/:id/$start-visit', appointmentStartVisitHandler],
  ['POST', 'Appointment/:id/$finish-visit', appointmentFinishVisitHandler],
  ['POST', 'Task/$request-visit', taskRequestVisitHandler],
  ['GET', 'Task/$visit-requests', taskVisitRequestsHandler],
  ['POST', 'Task/:id/$triage', taskTriageHandler],
  ['POST', 'Task/:id/$withdraw', taskWithdrawHandler],
  ['POST', 'Task/$assign-intake', taskAssignIntakeHandler],
  ['POST', 'Task/:id/$submit-intake', taskSubmitIntakeHandler],
  ['POST', 'ServiceRequest/$order', serviceRequestOrderHandler],
  ['POST', 'ServiceRequest/:id/$activate', serviceRequestActivateHandler],
  ['POST', 'ServiceRequest/:id/$revoke', serviceRequestRevokeHandler],
  ['POST', 'ServiceRequest/:id/$submit-result', serviceRequestSubmitResultHandler],
  ['POST', 'DocumentReference/$excuse-note', documentExcuseNoteHandler],
  ['POST', 'Communication/$send-message', communicationSendMessageHandler],
  ['GET', 'Communication/$threads', communicationThreadsHandler],
  ['GET', 'Communication/:id/$messages', communicationMessagesHandler],
  ['POST', 'Communication/:id/$mark-read', communicationMarkReadHandler],
];

/** Their OperationDefinitions by resource type, for the CapabilityStatement (metadata.ts). */
export const SCHEDULING_OPERATIONS: Record<string, OperationDefinition[]> = {
  Schedule: [
    scheduleGenerateSlotsOperation,
    scheduleFindSlotsOperation,
    scheduleWaitlistOperation,
    scheduleBlockOperation,
    scheduleUnblockOperation,
  ],
  Slot: [slotHoldOperation],
  Appointment: [
    appointmentAgendaOperation,
    appointmentBookOperation,
    appointmentConfirmOperation,
    appointmentCancelOperation,
    appointmentNoShowOperation,
    appointmentRescheduleOperation,
    appointmentRescheduleDecisionOperation,
    appointmentJoinOperation,
    appointmentStartVisitOperation,
    appointmentFinishVisitOperation,
    appointmentSubmitFeedbackOperation,
  ],
  Task: [
    taskRequestVisitOperation,
    taskVisitRequestsOperation,
    taskTriageOperation,
    taskWithdrawOperation,
    taskAssignIntakeOperation,
    taskSubmitIntakeOperation,
  ],
  ServiceRequest: [
    serviceRequestOrderOperation,
    serviceRequestActivateOperation,
    serviceRequestRevokeOperation,
    serviceRequestSubmitResultOperation,
  ],
  DocumentReference: [documentExcuseNoteOperation],
  Communication: [
    communicationSendMessageOperation,
    communicationThreadsOperation,
    communicationMessagesOperation,
    communicationMarkReadOperation,
  ],
};
