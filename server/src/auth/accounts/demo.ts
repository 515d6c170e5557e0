import type { AuthDeps } from '../deps';
import type { Account } from '../types';
import { createAdminAccount } from './admin';
import { approveApplication, getApplicationForAccount } from './applications/review';
import { applyAsProvider } from './applications/provider';
import { findAccountByEmail } from './login';
import { refused } from './outcomes';
import { registerPatient } from './register';
import type { ProviderApplicationInput, RegisterInput } from './schemas';
import { VERIFY_EMAIL_TTL_SECONDS, issueLinkToken } from './tokens';
import { verifyEmail } from './verify';

/*
 * Demo accounts (`npm run seed -- --demo`): made by the same paths as real ones — sign-up, the provider
 * application and an admin's approval — so their FHIR resources are validated, indexed and audited as any. Only
 * the emailed link is short-cut: demo addresses receive no mail, so the link token is issued and used here, as
 * the person clicking it would. Refused in production, whatever the caller checked before.
 */

function refuseInProduction(deps: AuthDeps): void {
  if (deps.config.env === 'production') {
    throw refused('Demo accounts are refused in production (NODE_ENV=production)');
  }
}

async function accountByEmail(deps: AuthDeps, email: string): Promise<Account> {
  const account = await findAccountByEmail(deps, email);
  if (!account) {
    throw new Error(`The account ${email} was not created (did it exist already?)`);
  }
  return account;
}

/** What following the verification link does, for an address nobody reads. */
async function confirmAddress(deps: AuthDeps, account: Account): Promise<Account> {
  const token = await issueLinkToken(deps.db, account.id, 'verify-email', VERIFY_EMAIL_TTL_SECONDS);
  await verifyEmail(deps, token);
  return accountByEmail(deps, account.email);
}

/** A patient signed up (account and own Patient resource) with the address confirmed. */
export async function signUpDemoPatient(deps: AuthDeps, input: RegisterInput): Promise<Account> {
  refuseInProduction(deps);
  await registerPatient(deps, input);
  return confirmAddress(deps, await accountByEmail(deps, input.email));
}

/** An active admin (what reviews the demo provider's application). */
export async function createDemoAdmin(deps: AuthDeps, email: string, password: string): Promise<Account> {
  refuseInProduction(deps);
  return createAdminAccount(deps.db, email, password);
}

/**
 * A provider who applied (Practitioner, PractitionerRole, licence document, review Task) and confirmed the
 * address; approved by `adminId` unless undefined (then the application waits in the admin's queue).
 */
export async function applyAsDemoProvider(
  deps: AuthDeps,
  input: ProviderApplicationInput,
  adminId: string | undefined
): Promise<Account> {
  refuseInProduction(deps);
  await applyAsProvider(deps, input);
  const account = await confirmAddress(deps, await accountByEmail(deps, input.email));
  if (adminId) {
    const application = await getApplicationForAccount(deps, account.id);
    if (!application) {
      throw new Error(`No application was recorded for ${input.email}`);
    }
    await approveApplication(deps, application.taskId, adminId);
  }
  return accountByEmail(deps, input.email);
}
