import { OutgoingMail } from './mail';

/*
 * Account emails. They carry no health data and no personal details beyond what the recipient
 * typed into a form of ours (an email can be read by anyone with access to the mailbox, and
 * the fact that someone uses a health record service is itself sensitive): no names, no dates
 * of birth, no record contents. Subjects never contain a secret (subjects are logged).
 */

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string
  );
}

type Block = { p: string } | { link: string; label: string } | { code: string };

function render(to: string, template: string, subject: string, blocks: Block[]): OutgoingMail {
  const text = blocks
    .map((b) => ('p' in b ? b.p : 'link' in b ? `${b.label}:\n${b.link}` : b.code))
    .concat(['— Hale'])
    .join('\n\n');
  const body = blocks
    .map((b) =>
      'p' in b
        ? `<p>${escapeHtml(b.p)}</p>`
        : 'link' in b
          ? `<p><a href="${escapeHtml(b.link)}">${escapeHtml(b.label)}</a></p>`
          : `<p style="font-size:24px;letter-spacing:4px"><strong>${escapeHtml(b.code)}</strong></p>`
    )
    .join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">\n${body}\n<p>— Hale</p>\n</body></html>`;
  return new OutgoingMail(to, template, subject, text, html);
}

const IGNORE = 'If you did not ask for this, you can ignore this email.';

export function verifyEmailMail(to: string, link: string, forApplication: boolean): OutgoingMail {
  return render(to, 'verify-email', 'Confirm your email address for Hale', [
    {
      p: forApplication
        ? 'Thank you for applying to Hale. Please confirm your email address; an administrator will review your application.'
        : 'Welcome to Hale. Please confirm your email address to finish creating your account.',
    },
    { link, label: 'Confirm my email address' },
    { p: `The link works once and expires in 24 hours. ${IGNORE}` },
  ]);
}

export function resetPasswordMail(to: string, link: string): OutgoingMail {
  return render(to, 'reset-password', 'Reset your Hale password', [
    { p: 'Someone asked to reset the password of the Hale account for this email address.' },
    { link, label: 'Choose a new password' },
    { p: `The link works once and expires in 1 hour. ${IGNORE}` },
  ]);
}

export function loginCodeMail(to: string, code: string): OutgoingMail {
  return render(to, 'login-code', 'Your Hale sign-in code', [
    { p: 'Your one-time sign-in code is:' },
    { code },
    { p: `It expires in 10 minutes. Never share it: Hale staff will not ask for it. ${IGNORE}` },
  ]);
}

/** Sent instead of a second account, so the sign-up answer never tells whether an address is registered. */
export function alreadyRegisteredMail(to: string, resetLink: string): OutgoingMail {
  return render(to, 'already-registered', 'Your Hale account', [
    {
      p: 'Someone tried to create a Hale account or application with this email address, which already has an account.',
    },
    { p: 'If that was you, sign in; if you forgot your password (or never confirmed the address), reset it here:' },
    { link: resetLink, label: 'Reset my password' },
    { p: IGNORE },
  ]);
}

export function applicationApprovedMail(to: string, signInLink: string): OutgoingMail {
  return render(to, 'application-approved', 'Your Hale application was approved', [
    { p: 'Good news: your application to Hale was approved and your account is active.' },
    { link: signInLink, label: 'Open Hale' },
  ]);
}

export function applicationRejectedMail(to: string, reason: string): OutgoingMail {
  return render(to, 'application-rejected', 'Your Hale application', [
    { p: 'Your application to Hale was reviewed and not approved. The reviewer gave this reason:' },
    { p: reason },
    { p: 'You may reply to the administrator of this Hale server if you think this is a mistake.' },
  ]);
}

/** The SMS text. The last line binds the code to our origin (WebOTP), so browsers autofill it only here. */
export function loginCodeSms(code: string, serverUrl: string): string {
  const host = new URL(serverUrl).hostname;
  return `Your Hale sign-in code is ${code}. It expires in 10 minutes. Don't share it.\n\n@${host} #${code}`;
}

export function passwordChangedMail(to: string): OutgoingMail {
  return render(to, 'password-changed', 'Your Hale password was changed', [
    { p: 'The password of the Hale account for this email address was just changed, and other sign-ins were ended.' },
    { p: 'If you did not do this, reset your password right away and tell the administrator of this Hale server.' },
  ]);
}

/**
 * Break-glass notice to the patient. Nothing about who, why or what: the declared reason can
 * describe the person's health. The patient reads those in Hale, in their access log.
 */
export function emergencyAccessMail(to: string, signInLink: string): OutgoingMail {
  return render(to, 'emergency-access', 'Your Hale record was opened in an emergency', [
    { p: 'Someone accessed your health record in Hale in an emergency.' },
    { p: 'Sign in to see who it was and why.' },
    { link: signInLink, label: 'Open Hale' },
  ]);
}
