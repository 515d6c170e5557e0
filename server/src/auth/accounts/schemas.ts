import { OperationOutcomeError, badRequest } from '@medplum/core';
import { z } from 'zod';

/*
 * Request bodies of the account API. Limits are generous but bounded; messages name the field
 * and never echo its value (passwords, tokens).
 */

export const email = z.string().trim().max(254).pipe(z.email());
/** Checked by the password policy; bounded here only so a huge value is refused before hashing. */
export const password = z.string().min(1).max(1024);
export const phone = z
  .string()
  .trim()
  .regex(/^\+[1-9]\d{6,14}$/, 'expected an international (E.164) number such as +64211234567');
const text = (max: number) => z.string().trim().min(1).max(max);

export const personName = z.union([
  text(200),
  z.object({ given: z.array(text(100)).min(1).max(5), family: text(100).optional() }),
]);
export type PersonName = z.infer<typeof personName>;

const birthDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
  .refine((d) => {
    const t = Date.parse(`${d}T00:00:00Z`);
    return !Number.isNaN(t) && new Date(t).toISOString().startsWith(d) && d >= '1900-01-01' && t <= Date.now();
  }, 'not a valid date of birth');

export const registerBody = z.object({ name: personName, email, phone, birthDate, password });
export type RegisterInput = z.infer<typeof registerBody>;

export const tokenBody = z.object({ token: z.string().max(200) });
export const emailBody = z.object({ email });
export const resetBody = z.object({ token: z.string().max(200), password });
export const loginCodeBody = z.object({ email, channel: z.enum(['email', 'sms']) });
export const rejectBody = z.object({ reason: text(1000) });

/** An uploaded document: base64 content (multipart is not needed by any client we have). */
export const documentUpload = z.object({
  contentType: z.enum(['application/pdf', 'image/png', 'image/jpeg']),
  data: z
    .string()
    .min(4)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64'),
  title: text(200),
});
export type DocumentUpload = z.infer<typeof documentUpload>;

export const providerApplicationBody = z.object({
  name: personName,
  email,
  password,
  phone,
  licenseNumber: text(64),
  specialty: text(200),
  qualifications: z.array(text(200)).min(1).max(20),
  hospitalAffiliation: text(200),
  practiceLocation: text(500),
  licenseDocument: documentUpload,
});
export type ProviderApplicationInput = z.infer<typeof providerApplicationBody>;

const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM');
export const openingHours = z
  .object({
    daysOfWeek: z.array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])).min(1),
    allDay: z.boolean().optional(),
    openingTime: time.optional(),
    closingTime: time.optional(),
  })
  .refine(
    (h) =>
      h.allDay ? !h.openingTime && !h.closingTime : h.openingTime && h.closingTime && h.openingTime < h.closingTime,
    'give allDay: true, or an openingTime before a closingTime'
  );
export type OpeningHours = z.infer<typeof openingHours>;

export const partnerApplicationBody = z.object({
  businessName: text(200),
  kind: z.enum(['pharmacy', 'lab']),
  registrationNumber: text(64),
  ownerName: personName,
  email,
  password,
  phone,
  location: text(500),
  operatingHours: z.array(openingHours).min(1).max(14),
  services: z.array(text(200)).min(1).max(50),
  documents: z.array(documentUpload).min(1).max(10),
});
export type PartnerApplicationInput = z.infer<typeof partnerApplicationBody>;

/** Parses a JSON body (or an HTML form's URLSearchParams) or throws 400 naming the bad fields. */
export function parseInput<T>(schema: z.ZodType<T>, body: unknown): T {
  const value = body instanceof URLSearchParams ? Object.fromEntries(body) : body;
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
    throw new OperationOutcomeError(badRequest(`Invalid request: ${problems.join('; ')}`));
  }
  return result.data;
}
