/**
 * Accounts and onboarding: what the rest of Hale (the OAuth server's sign-in pages, the FHIR
 * API's middleware, the CLI) uses. Everything else in this folder is internal.
 */
export { authenticatePassword, findAccountByEmail, getAccount } from './login';
export { clientIp } from './limits';
export { authenticateLoginCode, requestLoginCode } from './otp';
export { createAccountRouter } from './router';
export { requireAccount } from './session';
export type { AccountRequirement } from './session';
export {
  approveApplication,
  getApplicationForAccount,
  listPendingApplications,
  rejectApplication,
} from './applications/review';
export type { ApplicationSummary } from './applications/store';
export { createAdminAccount, listAccounts } from './admin';
export type { AccountListing } from './admin';
export { applyAsDemoProvider, createDemoAdmin, signUpDemoPatient } from './demo';
