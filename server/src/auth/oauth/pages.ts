import type { Response } from 'express';
import { portalBuilt } from '../../portal/static-files';

/**
 * The authorization server's few HTML pages: plain server-rendered forms, labelled for
 * screen readers, no scripts, nothing cached, never framed. Every value is escaped.
 */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const e = escapeHtml;

export const STYLESHEET = `
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}
h1{font-size:1.5rem}label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=email],input[type=password],input[type=text]{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{font-size:1rem;padding:.5rem 1.25rem;margin:1rem .5rem 0 0;cursor:pointer}
fieldset{border:1px solid #888;padding:.5rem 1rem}legend{font-weight:600}
.scope label{display:inline;font-weight:400}.scope{margin:.5rem 0}
.error{color:#a00000;font-weight:600}.note{color:#444;font-size:.9rem}
`;

interface Hidden {
  flow: string;
  csrf: string;
}

function hidden(h: Hidden): string {
  return `<input type="hidden" name="flow" value="${e(h.flow)}"><input type="hidden" name="csrf" value="${e(h.csrf)}">`;
}

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${e(title)} · Hale</title>
<link rel="stylesheet" href="/oauth2/style.css"></head>
<body><main><h1>${e(title)}</h1>${body}</main></body></html>`;
}

function errorLine(error: string | undefined): string {
  return error ? `<p class="error" role="alert">${e(error)}</p>` : '';
}

// Resetting a password is a portal screen (/forgot-password); an API-only Hale has no page to link to.
const FORGOT = portalBuilt() ? '<p><a href="/forgot-password">Forgot your password?</a></p>' : '';

export function loginPage(p: Hidden & { clientName: string; error?: string; email?: string }): string {
  return layout(
    'Sign in to Hale',
    `<p><strong>${e(p.clientName)}</strong> wants to connect to your Hale account.</p>${errorLine(p.error)}
<form method="post" action="/oauth2/login">${hidden(p)}<fieldset><legend>With your password</legend>
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${e(p.email ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></fieldset></form>${FORGOT}
<form method="post" action="/oauth2/login/code/request">${hidden(p)}
<fieldset><legend>Or get a one-time code</legend>
<label for="code-email">Email</label><input id="code-email" name="email" type="email" autocomplete="username" required value="${e(p.email ?? '')}">
<button type="submit" name="channel" value="email">Email me a code</button>
<button type="submit" name="channel" value="sms">Text me a code</button></fieldset></form>`
  );
}

export function codePage(p: Hidden & { email: string; error?: string }): string {
  return layout(
    'Enter your code',
    `<p>If an account exists for this address, we sent it a 6-digit code. It works for 10 minutes.</p>${errorLine(p.error)}
<form method="post" action="/oauth2/login/code">${hidden(p)}<input type="hidden" name="email" value="${e(p.email)}">
<label for="code">Code</label><input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>
<button type="submit">Sign in</button></form>`
  );
}

export interface ConsentItem {
  scope: string;
  text: string;
}

export function consentPage(
  p: Hidden & { clientName: string; userName: string | null; optional: ConsentItem[]; fixed: ConsentItem[] }
): string {
  const who = p.userName ? `Signed in as ${e(p.userName)}. ` : '';
  const fixed = p.fixed.length
    ? `<p>It will also:</p><ul>${p.fixed.map((i) => `<li>${e(i.text)}</li>`).join('')}</ul>`
    : '';
  const items = p.optional
    .map(
      (i, n) => `<div class="scope"><input type="checkbox" id="s${n}" name="scope" value="${e(i.scope)}" checked>
<label for="s${n}">${e(i.text)}</label></div>`
    )
    .join('\n');
  return layout(
    `Allow ${p.clientName}?`,
    `<p>${who}<strong>${e(p.clientName)}</strong> asks to:</p>
<form method="post" action="/oauth2/authorize/decision">${hidden(p)}
<fieldset><legend>Untick anything you do not want to share</legend>${items}</fieldset>${fixed}
<p class="note">You can withdraw this permission at any time.</p>
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></form>
<form method="post" action="/oauth2/logout">${hidden(p)}<button type="submit">Not you? Sign out</button></form>`
  );
}

export function pickerPage(
  p: Hidden & { clientName: string; patients: { id: string; name: string }[]; query: string }
): string {
  const list = p.patients.length
    ? p.patients
        .map(
          (pt, n) => `<div class="scope"><input type="radio" id="p${n}" name="patient" value="${e(pt.id)}" required>
<label for="p${n}">${e(pt.name)}</label></div>`
        )
        .join('\n')
    : '<p>No patients found.</p>';
  return layout(
    'Choose a patient',
    `<p><strong>${e(p.clientName)}</strong> needs a patient record to work with.</p>
<form method="get" action="/oauth2/authorize/next"><input type="hidden" name="flow" value="${e(p.flow)}">
<label for="q">Search by name</label><input id="q" name="q" type="text" value="${e(p.query)}"><button type="submit">Search</button></form>
<form method="post" action="/oauth2/authorize/patient">${hidden(p)}<fieldset><legend>Patients</legend>${list}</fieldset>
<button type="submit">Continue</button></form>`
  );
}

export function messagePage(title: string, message: string): string {
  return layout(title, `<p>${e(message)}</p>`);
}

/**
 * Sends a page with the headers every authorization page needs: no caching, no framing,
 * no scripts, forms only to Hale itself and (for the redirect that follows a form) the
 * client's redirect origin. Chromium applies form-action to that redirect.
 */
export function sendPage(res: Response, status: number, html: string, redirectTarget?: string): void {
  const formTargets = ["'self'", redirectTarget ? formActionSource(redirectTarget) : ''].filter(Boolean).join(' ');
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
      'Content-Security-Policy': `default-src 'none'; style-src 'self'; form-action ${formTargets}; frame-ancestors 'none'; base-uri 'none'`,
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    })
    .send(html);
}

function formActionSource(uri: string): string {
  const url = new URL(uri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}
