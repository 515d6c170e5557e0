import type { Communication, Patient, Reference } from '@medplum/fhirtypes';
import { COMMUNICATION_CATEGORY, NOTIFICATION_CATEGORY_SYSTEM } from './vocabulary';

/**
 * A notification for the dispatcher bot (docs/notifications.md): a Communication in preparation with
 * category notification and a notification-category code, whose text is fixed and PHI-free — who,
 * what and when stay behind sign-in; `about` names what it is about for the signed-in view.
 */
export function notification(input: {
  category: string;
  recipient: string;
  patient: string;
  about: string;
  text: string;
}): Communication {
  const patient: Reference<Patient> = { reference: input.patient };
  return {
    resourceType: 'Communication',
    status: 'preparation',
    category: [
      { coding: [{ system: COMMUNICATION_CATEGORY, code: 'notification' }] },
      { coding: [{ system: NOTIFICATION_CATEGORY_SYSTEM, code: input.category }] },
    ],
    priority: 'routine',
    recipient: [{ reference: input.recipient }],
    subject: patient,
    about: [{ reference: input.about }],
    payload: [{ contentString: input.text }],
  };
}
