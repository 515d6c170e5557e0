import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import type { NextFunction, Request, Response } from 'express';

/*
 * The web portal's built files (web/dist, from `npm run -w web build`), served at `/`.
 *
 * Everything is read into memory once: the build is a few hundred KB, and the .br/.gz siblings the build wrote
 * mean no compression on the request path. Vite names every file under assets/ by a hash of its content, so those
 * are cached for a year and never revalidated; index.html (which names the current hashes) is revalidated on every
 * load. Unknown paths that look like portal screens get index.html (the client-side router draws them), but never
 * under the API's prefixes: a mistyped /fhir or /oauth2 URL must still answer with the API's own 404.
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Paths the portal's fallback never answers: the API, the authorization server and the operational endpoints. */
const RESERVED = ['/fhir', '/oauth2', '/.well-known', '/auth', '/healthcheck', '/email', '/sms', '/assets', '/metrics'];

// The portal's scripts and styles come from Hale itself; Mantine sets inline style attributes, hence style-src.
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

interface PortalFile {
  type: string;
  body: Buffer;
  br?: Buffer;
  gzip?: Buffer;
  etag: string;
  immutable: boolean;
}

/** The directory the build writes, relative to this file (server/src/portal → web/dist). */
export const DEFAULT_PORTAL_DIR = resolve(__dirname, '../../../web/dist');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function sibling(path: string, ext: string): Buffer | undefined {
  return existsSync(path + ext) ? readFileSync(path + ext) : undefined;
}

/** Reads the build into memory, keyed by URL path; undefined when there is no build. */
/** Whether there is a portal build to serve (the account mails then lead to its screens). */
export function portalBuilt(dir: string = DEFAULT_PORTAL_DIR): boolean {
  return existsSync(join(dir, 'index.html'));
}

export function loadPortalFiles(dir: string): Map<string, PortalFile> | undefined {
  if (!portalBuilt(dir)) {
    return undefined;
  }
  const files = new Map<string, PortalFile>();
  for (const path of walk(dir)) {
    if (path.endsWith('.br') || path.endsWith('.gz')) {
      continue;
    }
    const urlPath = `/${relative(dir, path).split(sep).join('/')}`;
    const body = readFileSync(path);
    files.set(urlPath, {
      type: TYPES[extname(path)] ?? 'application/octet-stream',
      body,
      br: sibling(path, '.br'),
      gzip: sibling(path, '.gz'),
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      immutable: urlPath.startsWith('/assets/'),
    });
  }
  return files;
}

function reserved(path: string): boolean {
  return RESERVED.some((p) => path === p || path.startsWith(`${p}/`));
}

/**
 * The portal's screens (web/src/App.tsx routes on these; a screen added there is added here). Only they get
 * index.html: any other path keeps the API's 404 OperationOutcome, as a FHIR client probing the server expects.
 */
const SCREENS = [
  '/',
  '/signin',
  '/signup',
  '/forgot-password',
  '/reset-password',
  '/dashboard',
  '/providers',
  '/access-log',
  '/messages',
  '/appointments',
  '/patients',
  '/schedule',
];

/** A path of one of the portal's screens, or below one (`/patients/123`); never a reserved prefix. */
function isScreenPath(path: string): boolean {
  const bare = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return !reserved(bare) && SCREENS.some((s) => bare === s || (s !== '/' && bare.startsWith(`${s}/`)));
}

function accepts(req: Request, coding: string): boolean {
  const header = req.header('accept-encoding') ?? '';
  return header.split(',').some((part) => {
    const [name, ...params] = part.trim().split(';');
    return name?.trim() === coding && !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p));
  });
}

function send(req: Request, res: Response, file: PortalFile): void {
  res.set({
    'Content-Type': file.type,
    'Cache-Control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    ETag: file.etag,
    Vary: 'Accept-Encoding',
  });
  if (file.type.startsWith('text/html')) {
    res.set('Content-Security-Policy', PAGE_CSP);
    // A reset link's token is in the first URL (the screen then takes it out of the address bar).
    res.set('Referrer-Policy', 'no-referrer');
  }
  if (req.header('if-none-match') === file.etag) {
    res.status(304).end();
    return;
  }
  const [encoding, body] =
    file.br && accepts(req, 'br')
      ? ['br', file.br]
      : file.gzip && accepts(req, 'gzip')
        ? ['gzip', file.gzip]
        : [undefined, file.body];
  if (encoding) {
    res.set('Content-Encoding', encoding);
  }
  res.set('Content-Length', String(body.length));
  res.status(200).end(req.method === 'HEAD' ? undefined : body);
}

/** express middleware serving the portal; passes on everything it does not serve. */
export function portalFiles(files: Map<string, PortalFile>): (req: Request, res: Response, next: NextFunction) => void {
  const index = files.get('/index.html') as PortalFile;
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next();
      return;
    }
    const file = files.get(req.path);
    if (file && req.path !== '/index.html') {
      send(req, res, file);
    } else if (isScreenPath(req.path) || req.path === '/index.html') {
      send(req, res, index);
    } else {
      next();
    }
  };
}
