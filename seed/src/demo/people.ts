import type { ProviderApplicationInput, RegisterInput } from '../../../server/src/auth/accounts/schemas';
import type { ListingTerms } from './directory';
import { DEMO_SPECIALTIES } from './directory';

/**
 * Who the demo signs in as. The password is public on purpose — it is printed at the end of the run and in the
 * README's quick start — which is why demo accounts exist only when the seed is asked for them and never in
 * production. Addresses are under example.org (RFC 2606): no mail reaches anyone.
 */
export const DEMO_PASSWORD = 'kowhai tui harbour 2026';

export const DEMO_PATIENT: RegisterInput = {
  name: { given: ['Aroha'], family: 'Demo' },
  email: 'demo.patient@example.org',
  phone: '+64211230001',
  birthDate: '1979-05-14',
  password: DEMO_PASSWORD,
};

/** A one-page PDF (the licence document an application must carry). */
const LICENCE_PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n'
).toString('base64');

function provider(
  given: string,
  family: string,
  email: string,
  licenseNumber: string,
  specialty: string
): ProviderApplicationInput {
  return {
    name: { given: [given], family },
    email,
    password: DEMO_PASSWORD,
    phone: '+64211230002',
    licenseNumber,
    specialty,
    qualifications: ['MBChB', 'FRNZCGP'],
    hospitalAffiliation: 'Wellington Health Collective',
    practiceLocation: 'Wellington',
    licenseDocument: { contentType: 'application/pdf', data: LICENCE_PDF, title: 'Practising certificate' },
  };
}

/** The provider the demo patient shares with: approved, listed, with a chart to look at. */
export const DEMO_PROVIDER = provider(
  'Mere',
  'Ngata',
  'demo.provider@example.org',
  'NZMC-DEMO-0001',
  'Family Medicine'
);

/** Their marketplace listing (written over the application's PractitionerRole once approved). */
export const DEMO_PROVIDER_LISTING: ListingTerms = {
  specialty: DEMO_SPECIALTIES.family,
  languages: ['en', 'mi'],
  fee: 65,
  telehealth: true,
  accepting: true,
};

/** Reviews applications; the second applicant waits in the queue so the admin console has one to decide. */
export const DEMO_ADMIN = { email: 'demo.admin@example.org', password: DEMO_PASSWORD };
export const DEMO_APPLICANT = provider('Tama', 'Rewi', 'demo.applicant@example.org', 'NZMC-DEMO-0002', 'Physiotherapy');
