import type { Response } from 'express';
import { escapeHtml } from '../../notify/templates';
import { MIN_PASSWORD_LENGTH } from './passwords';

/*
 * The two pages email links open. A GET only shows a button; the POST does the work, so link
 * scanners that open every link in a mail cannot use up a single-use token. No scripts, no
 * external resources, never cached, never framed, and no Referer (the URL holds the token).
 */

function send(res: Response, status: number, title: string, body: string): void {
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    })
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
        `<title>${escapeHtml(title)} · Hale</title></head>` +
        `<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">` +
        `<h1>${escapeHtml(title)}</h1>${body}</body></html>`
    );
}

export function confirmEmailPage(res: Response, token: string): void {
  send(
    res,
    200,
    'Confirm your email address',
    `<form method="post" action="verify-email"><input type="hidden" name="token" value="${escapeHtml(token)}">` +
      `<button type="submit">Confirm my email address</button></form>`
  );
}

export function resetPasswordPage(res: Response, token: string): void {
  send(
    res,
    200,
    'Choose a new password',
    `<form method="post" action="reset-password"><input type="hidden" name="token" value="${escapeHtml(token)}">` +
      `<p><label>New password (at least ${MIN_PASSWORD_LENGTH} characters)<br>` +
      `<input type="password" name="password" minlength="${MIN_PASSWORD_LENGTH}" autocomplete="new-password" required></label></p>` +
      `<button type="submit">Set password</button></form>`
  );
}

export function resultPage(res: Response, status: number, title: string, message: string): void {
  send(res, status, title, `<p>${escapeHtml(message)}</p>`);
}
