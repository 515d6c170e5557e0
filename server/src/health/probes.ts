import type express from 'express';
import type { NextFunction, Request, Response } from 'express';

export type LifecycleState = 'starting' | 'ready' | 'draining';

/**
 * Where this replica is in its life, as a load balancer needs to know it. `ready` once start-up is done;
 * `draining` from the moment SIGTERM arrives, so the readiness probe fails and traffic moves elsewhere while
 * in-flight requests finish.
 */
export class Lifecycle {
  state: LifecycleState = 'starting';
}

/**
 * Kubernetes-style probes (outside the FHIR base, no token, no PHI):
 * - `/livez` answers 200 while the process can answer at all; a failing liveness probe gets the pod restarted,
 *   so it checks nothing shared: a database outage must not restart every replica.
 * - `/readyz` answers 200 when this replica takes work, 503 while starting or draining. It does not ping
 *   PostgreSQL either: every replica shares the database, so a database outage would take all of them out of
 *   the load balancer at once and turn Hale's 503 + Retry-After into refused connections. `/healthcheck`
 *   still reports the database and Redis for monitoring.
 */
export function mountProbes(app: express.Express, lifecycle: Lifecycle): void {
  app.get('/livez', (_req, res) => {
    res.set('Cache-Control', 'no-store').type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    const ready = lifecycle.state === 'ready';
    res
      .status(ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .type('text/plain')
      .send(ready ? 'ok' : lifecycle.state);
  });
}

/** While draining, every answer asks its client to reconnect (to another replica) rather than reuse this socket. */
export function closeConnectionsWhileDraining(lifecycle: Lifecycle) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (lifecycle.state === 'draining') {
      res.setHeader('Connection', 'close');
    }
    next();
  };
}
