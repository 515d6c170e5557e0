import type { MedplumClient } from '@medplum/core';
import type { Communication, Patient, Reference } from '@medplum/fhirtypes';
import { createOnce } from './fhir';
import type { NotificationCategory } from './vocabulary';
import { COMMUNICATION_CATEGORY, SYSTEM } from './vocabulary';

export interface NotificationRequest {
  /** Idempotency key: queueing twice with one key makes one Communication. */
  readonly key: string;
  readonly recipient: Reference;
  readonly category: NotificationCategory;
  /** PHI-free text shown in the portal; the email/SMS never carries it (templates.ts). */
  readonly text: string;
  /** The patient the notification concerns, if any. */
  readonly subject?: Reference<Patient>;
  /** What it is about (the Appointment, Consent, DocumentReference …). */
  readonly about?: readonly Reference[];
  readonly priority?: Communication['priority'];
}

/** The category codings of a notification: communication-category#notification and the Hale category. */
export function notificationCategories(category: NotificationCategory): Communication['category'] {
  return [
    { coding: [{ system: COMMUNICATION_CATEGORY, code: 'notification' }] },
    { coding: [{ system: SYSTEM.notificationCategory, code: category }] },
  ];
}

/**
 * Queues a notification for the dispatcher (notifications.ts): a Communication in status preparation, one
 * recipient, categories notification + the Hale category.
 */
export function queueNotification(medplum: MedplumClient, request: NotificationRequest): Promise<Communication> {
  return createOnce(medplum, notification(request), request.key);
}

/** The Communication queueNotification writes (without its key), for a bot that writes it in a transaction. */
export function notification(request: NotificationRequest): Communication {
  return {
    resourceType: 'Communication',
    status: 'preparation',
    category: notificationCategories(request.category),
    priority: request.priority ?? 'routine',
    // Any of Communication.recipient's types; the dispatcher reads the telecom of people and organizations.
    recipient: [request.recipient as NonNullable<Communication['recipient']>[number]],
    ...(request.subject ? { subject: request.subject } : {}),
    ...(request.about?.length ? { about: [...request.about] } : {}),
    payload: [{ contentString: request.text }],
  };
}

/** The Hale notification category of a Communication, if it has one. */
export function categoryOf(communication: Communication): NotificationCategory | undefined {
  for (const concept of communication.category ?? []) {
    const coding = concept.coding?.find((c) => c.system === SYSTEM.notificationCategory);
    if (coding?.code) {
      return coding.code as NotificationCategory;
    }
  }
  return undefined;
}

/** A notification: categorised communication-category#notification (the dispatcher leaves others alone). */
export function isNotification(communication: Communication): boolean {
  return (communication.category ?? []).some((c) =>
    c.coding?.some((x) => x.system === COMMUNICATION_CATEGORY && x.code === 'notification')
  );
}
