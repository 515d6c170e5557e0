import { createHmac } from 'node:crypto';
import type { Appointment, CodeableConcept, Extension } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../access/consent/vocabulary';
import { RULES, refused } from '../scheduling/rules';
import type { TelehealthConfig } from './config';

/** A virtual service: v3 ActCode VR (virtual), the code Encounter.class takes for a video visit. */
export const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const VIRTUAL_CODE = 'VR';

/**
 * R4 has no Appointment.virtualService (R5 added it); the cross-version extension carries it, with
 * R5's parts as sub-extensions: `channelType`, `address` (valueUrl).
 */
export const VIRTUAL_SERVICE_EXT = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.virtualService';
/** The channel type of a link built from TELEHEALTH_URL_TEMPLATE (no vendor is named). */
export const CHANNEL_TYPE_SYSTEM = `${HALE_FHIR}/CodeSystem/virtual-service-type`;
export const CHANNEL_TYPE_CODE = 'url-template';

const isVirtualCode = (concepts: readonly CodeableConcept[] | undefined): boolean =>
  (concepts ?? []).some((c) => (c.coding ?? []).some((x) => x.system === ACT_CODE_SYSTEM && x.code === VIRTUAL_CODE));

/** A telehealth appointment: its serviceType or appointmentType carries v3-ActCode#VR (copied from the Slot or Schedule). */
export function isVirtual(appointment: Appointment): boolean {
  return (
    isVirtualCode(appointment.serviceType) ||
    isVirtualCode(appointment.appointmentType ? [appointment.appointmentType] : [])
  );
}

/** The room token: HMAC-SHA256 of the appointment id under the room secret (256 bits, base64url). */
export function roomToken(config: TelehealthConfig, appointmentId: string): string {
  if (!config.roomSecret) {
    throw new Error('roomToken needs TELEHEALTH_ROOM_SECRET');
  }
  return createHmac('sha256', config.roomSecret).update(`hale:telehealth:${appointmentId}`).digest('base64url');
}

/** The join link of a virtual appointment, or a 422 naming the rule (not virtual, telehealth off). */
export function joinLink(config: TelehealthConfig | undefined, appointment: Appointment & { id: string }): string {
  if (!isVirtual(appointment)) {
    throw refused(
      RULES.notVirtual,
      `The appointment is not a virtual visit (serviceType ${ACT_CODE_SYSTEM}|${VIRTUAL_CODE})`
    );
  }
  if (!config?.urlTemplate) {
    throw refused(RULES.telehealthOff, 'This server has no telehealth link template (TELEHEALTH_URL_TEMPLATE)');
  }
  return config.urlTemplate
    .replaceAll('{appointment}', encodeURIComponent(appointment.id))
    .replaceAll('{room}', roomToken(config, appointment.id));
}

/** The appointment as a participant sees it: with the virtualService extension carrying the link. */
export function withJoinLink<T extends Appointment & { id: string }>(
  config: TelehealthConfig | undefined,
  appointment: T
): T {
  const link: Extension = {
    url: VIRTUAL_SERVICE_EXT,
    extension: [
      {
        url: 'channelType',
        valueCoding: { system: CHANNEL_TYPE_SYSTEM, code: CHANNEL_TYPE_CODE, display: 'Video visit link' },
      },
      { url: 'address', valueUrl: joinLink(config, appointment) },
    ],
  };
  const others = (appointment.extension ?? []).filter((e) => e.url !== VIRTUAL_SERVICE_EXT);
  return { ...appointment, extension: [...others, link] };
}
