/**
 * Tells the patient about a new data-sharing request: a Task with code data-sharing-request (status requested)
 * becomes a notification Communication to the patient (Task.owner when it is a patient, else Task.for), about the
 * Task. Triggered per Task (subscription `Task?code=…|data-sharing-request&status=requested`) or on cron over
 * every pending request; keyed by the Task, so each request is announced once.
 */
import type { BotEvent, MedplumClient } from '@medplum/core';
import type { Task } from '@medplum/fhirtypes';
import { codingIn, inputOf, isCronInput, refOf, searchAll, typeOf } from './lib/fhir';
import { queueNotification } from './lib/notify';
import { DATA_SHARING_REQUEST, SYSTEM } from './lib/vocabulary';

export interface SharingRequestResult {
  readonly notified: readonly string[];
}

export async function handler(medplum: MedplumClient, event: BotEvent): Promise<SharingRequestResult> {
  const one = inputOf<Task>(event, 'Task');
  const tasks = one
    ? [one]
    : isCronInput(event.input)
      ? await searchAll(medplum, 'Task', [
          ['code', `${SYSTEM.taskCode}|${DATA_SHARING_REQUEST}`],
          ['status', 'requested'],
        ])
      : [];
  const notified: string[] = [];
  for (const task of tasks) {
    const patient =
      typeOf(task.owner) === 'Patient' ? task.owner : typeOf(task.for) === 'Patient' ? task.for : undefined;
    const isRequest = codingIn(task.code, { system: SYSTEM.taskCode, code: DATA_SHARING_REQUEST });
    if (!task.id || !patient?.reference || !isRequest || task.status !== 'requested') {
      continue;
    }
    const communication = await queueNotification(medplum, {
      key: `data-sharing-request/${refOf(task)}`,
      recipient: { reference: patient.reference },
      category: 'data-sharing-request',
      text: 'Someone has asked you for access to some of your information.',
      subject: { reference: patient.reference },
      about: [{ reference: refOf(task) }],
    });
    notified.push(refOf(communication));
  }
  return { notified };
}
