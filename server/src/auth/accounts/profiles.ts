import type { ContactPoint, HumanName, Patient } from '@medplum/fhirtypes';
import type { PersonName, RegisterInput } from './schemas';

/** Hale's own code systems and identifier namespaces (stable URIs: stored in resources). */
export const HALE_SYSTEMS = {
  taskCode: 'https://hale.health/fhir/CodeSystem/task-code',
  taskInput: 'https://hale.health/fhir/CodeSystem/task-input-type',
  documentType: 'https://hale.health/fhir/CodeSystem/document-type',
  organizationType: 'https://hale.health/fhir/CodeSystem/organization-type',
  practitionerLicense: 'https://hale.health/fhir/NamingSystem/practitioner-license',
  pharmacyRegistration: 'https://hale.health/fhir/NamingSystem/pharmacy-registration',
  labRegistration: 'https://hale.health/fhir/NamingSystem/lab-registration',
} as const;

export function humanName(name: PersonName): HumanName {
  if (typeof name === 'string') {
    return { use: 'official', text: name };
  }
  const text = [...name.given, name.family].filter(Boolean).join(' ');
  return { use: 'official', text, given: name.given, ...(name.family ? { family: name.family } : {}) };
}

/** The name as one line (the account's `name` column, password context). */
export function nameText(name: PersonName): string {
  return humanName(name).text as string;
}

export function contactPoints(email: string, phone: string, emailUse: 'home' | 'work'): ContactPoint[] {
  return [
    { system: 'email', value: email.trim(), use: emailUse },
    { system: 'phone', value: phone, use: 'mobile' },
  ];
}

export function patientResource(input: RegisterInput): Patient {
  return {
    resourceType: 'Patient',
    active: true,
    name: [humanName(input.name)],
    telecom: contactPoints(input.email, input.phone, 'home'),
    birthDate: input.birthDate,
  };
}
