import { unauthorized } from '@medplum/core';
import type express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { sendOutcome } from '../fhir/http';
import type { HaleMetrics } from './registry';
import type { RouteVocabulary } from './route-template';
import { routeTemplate } from './route-template';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Counts and times every request by route template; a client gone before the answer ended is `aborted`. */
export function httpMetrics(metrics: HaleMetrics, vocabulary: () => RouteVocabulary) {
  return (req: Request, res: Response, next: NextFunction): void => {
    // Read now: routers mounted below cut their prefix off req.path while they run.
    const path = req.path;
    const method = METHODS.has(req.method) ? req.method : 'OTHER';
    const end = metrics.duration.startTimer();
    res.once('close', () => {
      const route = routeTemplate(path, res.statusCode, vocabulary());
      end({ method, route });
      metrics.requests.inc({ method, route, status: res.writableFinished ? String(res.statusCode) : 'aborted' });
    });
    next();
  };
}

/**
 * `GET /metrics`, for a Prometheus scraper holding METRICS_TOKEN as its bearer token. Off (404, like any unknown
 * path) without one: the figures describe the deployment (routes used, load, pool, backlogs) and are not public.
 * A static token, not an OAuth one: scrapers send a fixed credential and cannot refresh a 5-minute access token.
 */
export function mountMetrics(app: express.Express, metrics: HaleMetrics, token: string | undefined): void {
  const expected = token ? digest(token) : undefined;
  app.get('/metrics', async (req, res, next) => {
    if (!expected) {
      next();
      return;
    }
    const m = /^Bearer (.+)$/i.exec(req.header('authorization') ?? '');
    if (!m?.[1] || !timingSafeEqual(digest(m[1]), expected)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      sendOutcome(res, 401, unauthorized);
      return;
    }
    try {
      const { contentType, body } = await metrics.render();
      res.set('Cache-Control', 'no-store').type(contentType).send(body);
    } catch (err) {
      next(err);
    }
  });
}

/** Equal-length digests, so the comparison takes the same time whatever the token's length or content. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The express app's own literal routes and first segments, read once its routes are all mounted. */
export function vocabularyOf(app: express.Express, operations: ReadonlySet<string>): () => RouteVocabulary {
  let vocabulary: RouteVocabulary | undefined;
  return () => {
    if (!vocabulary) {
      const stack = (app as unknown as { router: { stack: { route?: { path?: unknown } }[] } }).router.stack;
      const literalPaths = new Set(
        stack.map((layer) => layer.route?.path).filter((p): p is string => typeof p === 'string' && !p.includes(':'))
      );
      const prefixes = new Set([...literalPaths].map((p) => p.split('/')[1] ?? '').filter(Boolean));
      vocabulary = { operations, literalPaths, prefixes };
    }
    return vocabulary;
  };
}
