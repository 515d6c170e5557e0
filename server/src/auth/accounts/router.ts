import { OperationOutcomeError, notFound } from '@medplum/core';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { sendOutcome } from '../../fhir/http';
import { portalBuilt } from '../../portal/static-files';
import type { AuthDeps } from '../deps';
import { RateLimitedError } from '../rate-limit';
import { applyAsPartner } from './applications/partner';
import { applyAsProvider } from './applications/provider';
import {
  approveApplication,
  getApplicationForAccount,
  listPendingApplications,
  rejectApplication,
} from './applications/review';
import { limitEmail, limitRequest } from './limits';
import { notifier } from './mailing';
import { requestLoginCode } from './otp';
import { UNAVAILABLE_ID } from './outcomes';
import { confirmEmailPage, resetPasswordPage, resultPage } from './pages';
import { registerPatient } from './register';
import { requestPasswordReset, resetPassword } from './reset';
import {
  emailBody,
  loginCodeBody,
  parseInput,
  partnerApplicationBody,
  providerApplicationBody,
  registerBody,
  rejectBody,
  resetBody,
  tokenBody,
} from './schemas';
import { requireAccount } from './session';
import { resendVerification, verifyEmail } from './verify';

/** The same answer whether or not the address has an account. */
function accepted(res: Response, message: string): void {
  res.status(202).json({ status: 'accepted', message });
}

function first(v: unknown): string {
  return String((Array.isArray(v) ? v[0] : v) ?? '');
}

/**
 * The account and onboarding API, mounted at /auth. Every endpoint is rate limited by client
 * address, and by email where the request names one (see limits.ts).
 */
export function createAccountRouter(deps: AuthDeps): express.Router {
  notifier(deps); // created now, so a production server without SMTP_URL says so at start
  const router = express.Router();
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  mountSignUp(router, deps);
  mountLinks(router, deps, portalBuilt());
  mountApplications(router, deps);
  router.use(renderUnavailable);
  return router;
}

function mountSignUp(router: express.Router, deps: AuthDeps): void {
  router.post('/register', async (req, res) => {
    await limitRequest(deps, req, 'register');
    const input = parseInput(registerBody, req.body);
    await limitEmail(deps, 'register', input.email);
    await registerPatient(deps, input);
    accepted(res, 'Check your email to confirm your address.');
  });
  router.post('/resend-verification', async (req, res) => {
    await limitRequest(deps, req, 'resend-verification');
    const { email } = parseInput(emailBody, req.body);
    await limitEmail(deps, 'resend-verification', email);
    await resendVerification(deps, email);
    accepted(res, 'If the address has an unconfirmed account, a new link is on its way.');
  });
  router.post('/forgot-password', async (req, res) => {
    await limitRequest(deps, req, 'forgot-password');
    const { email } = parseInput(emailBody, req.body);
    await limitEmail(deps, 'forgot-password', email);
    await requestPasswordReset(deps, email);
    accepted(res, 'If the address has an account, a reset link is on its way.');
  });
  router.post('/login-code', async (req, res) => {
    await limitRequest(deps, req, 'login-code');
    const { email, channel } = parseInput(loginCodeBody, req.body);
    await requestLoginCode(deps, email, channel); // limits per email itself
    accepted(res, 'If the address has an account, a sign-in code is on its way.');
  });
}

/** The targets of the links in mails: a page (GET) and the action (POST, JSON or the page's form). */
function mountLinks(router: express.Router, deps: AuthDeps, portal: boolean): void {
  router.get('/verify-email', async (req, res) => {
    await limitRequest(deps, req, 'verify-email');
    confirmEmailPage(res, first(req.query.token));
  });
  router.post('/verify-email', async (req, res) => {
    await limitRequest(deps, req, 'verify-email');
    const { token } = parseInput(tokenBody, req.body);
    await asPage(req, res, () => verifyEmail(deps, token), 'Email address confirmed', 'You can now sign in to Hale.');
  });
  router.get('/reset-password', async (req, res) => {
    await limitRequest(deps, req, 'reset-password');
    if (portal) {
      // The portal's screen does the same (a form that POSTs the token), with the portal's look and errors.
      res.set('Referrer-Policy', 'no-referrer');
      res.redirect(303, `/reset-password?token=${encodeURIComponent(first(req.query.token))}`);
      return;
    }
    resetPasswordPage(res, first(req.query.token));
  });
  router.post('/reset-password', async (req, res) => {
    await limitRequest(deps, req, 'reset-password');
    const { token, password } = parseInput(resetBody, req.body);
    await asPage(req, res, () => resetPassword(deps, token, password), 'Password changed', 'Sign in with it now.');
  });
}

/** Runs the action; a form post (the page's button) gets a page back, an API call JSON. */
async function asPage(
  req: Request,
  res: Response,
  action: () => Promise<void>,
  title: string,
  message: string
): Promise<void> {
  const form = req.body instanceof URLSearchParams;
  try {
    await action();
  } catch (err) {
    if (form && err instanceof OperationOutcomeError && err.outcome.issue?.[0]?.code === 'invalid') {
      resultPage(res, 400, 'That did not work', err.outcome.issue[0].details?.text ?? 'Invalid request');
      return;
    }
    throw err;
  }
  if (form) {
    resultPage(res, 200, title, message);
  } else {
    res.json({ status: 'ok', message: `${title}. ${message}` });
  }
}

function mountApplications(router: express.Router, deps: AuthDeps): void {
  router.post('/apply/provider', async (req, res) => {
    await limitRequest(deps, req, 'apply');
    const input = parseInput(providerApplicationBody, req.body);
    await limitEmail(deps, 'apply', input.email);
    await applyAsProvider(deps, input);
    accepted(res, 'Application received. Check your email to confirm your address.');
  });
  router.post('/apply/partner', async (req, res) => {
    await limitRequest(deps, req, 'apply');
    const input = parseInput(partnerApplicationBody, req.body);
    await limitEmail(deps, 'apply', input.email);
    await applyAsPartner(deps, input);
    accepted(res, 'Application received. Check your email to confirm your address.');
  });
  router.get('/me/application', async (req, res) => {
    await limitRequest(deps, req, 'me');
    const account = await requireAccount(deps, req, { statuses: ['pending', 'active', 'rejected'] });
    const application = await getApplicationForAccount(deps, account.id);
    if (!application) {
      throw new OperationOutcomeError(notFound);
    }
    res.json(application);
  });
  router.get('/admin/applications', async (req, res) => {
    await limitRequest(deps, req, 'admin');
    await requireAccount(deps, req, { roles: ['admin'] });
    res.json({ applications: await listPendingApplications(deps) });
  });
  router.post('/admin/applications/:taskId/approve', async (req, res) => {
    await limitRequest(deps, req, 'admin');
    const admin = await requireAccount(deps, req, { roles: ['admin'] });
    res.json(await approveApplication(deps, first(req.params.taskId), admin.id));
  });
  router.post('/admin/applications/:taskId/reject', async (req, res) => {
    await limitRequest(deps, req, 'admin');
    const admin = await requireAccount(deps, req, { roles: ['admin'] });
    const { reason } = parseInput(rejectBody, req.body);
    res.json(await rejectApplication(deps, first(req.params.taskId), admin.id, reason));
  });
}

/** 503 for a feature that needs mail or SMS on a server without them; everything else goes to app.ts. */
function renderUnavailable(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (err instanceof RateLimitedError) {
    res.set('Retry-After', String(err.retryAfterSeconds));
  }
  if (err instanceof OperationOutcomeError && err.outcome.id === UNAVAILABLE_ID) {
    sendOutcome(res, 503, err.outcome);
    return;
  }
  next(err);
}
