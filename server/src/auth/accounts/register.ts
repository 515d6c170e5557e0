import type { AuthDeps } from '../deps';
import { prepareVerification, requireMail, sendAlreadyRegistered } from './mailing';
import { assertAcceptablePassword, hashPassword } from './passwords';
import { nameText, patientResource } from './profiles';
import type { RegisterInput } from './schemas';
import type { AccountRow } from './store';
import { insertAccount, selectAccountByEmail } from './store';

/** Thrown inside a sign-up transaction when the email was taken meanwhile: rolls the profile back. */
export class EmailTaken extends Error {}

/**
 * Patient self-registration: an account (patient, active, email not yet verified) and its own
 * Patient resource, created together, then a verification mail. An address that already has an
 * account gets the same answer and a mail to its owner instead (see sendAlreadyRegistered), so
 * sign-up never tells whether an address is registered. Both paths hash the password first, so
 * they take about as long.
 */
export async function registerPatient(deps: AuthDeps, input: RegisterInput): Promise<void> {
  requireMail(deps);
  assertAcceptablePassword(input.password, [input.email, nameText(input.name)]);
  const passwordHash = await hashPassword(input.password);
  const existing = await selectAccountByEmail(deps.db, input.email);
  if (existing) {
    await sendAlreadyRegistered(deps, existing);
    return;
  }
  try {
    const send = await deps.systemRepository().withTransaction(async (tx) => {
      const patient = await tx.createResource(patientResource(input));
      const row = await insertAccount(tx.queryable, {
        email: input.email,
        passwordHash,
        emailVerified: false,
        status: 'active',
        roles: ['patient'],
        name: nameText(input.name),
        phone: input.phone,
        profile: { type: 'Patient', id: patient.id },
      });
      return prepareVerification(deps, tx.queryable, requireRow(row), false);
    });
    send();
  } catch (err) {
    if (!(err instanceof EmailTaken)) {
      throw err;
    }
    // Someone registered the same address between our check and our insert.
    const winner = await selectAccountByEmail(deps.db, input.email);
    if (winner) {
      await sendAlreadyRegistered(deps, winner);
    }
  }
}

export function requireRow(row: AccountRow | undefined): AccountRow {
  if (!row) {
    throw new EmailTaken();
  }
  return row;
}
