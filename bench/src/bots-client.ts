/**
 * What the bots phase needs of a Hale: FHIR requests with that server's own token (the bots phase
 * talks to two servers, so not the run-wide token of http.ts), deploying a bot the way an operator
 * would over HTTP (`POST Bot`, `POST Bot/{id}/$deploy`), Subscriptions, the runs' AuditEvents, and
 * the `bot_job` ledger read straight from Hale's database.
 */
import type { AuditEvent, Bot, Bundle, Resource, Subscription } from '@medplum/fhirtypes';
import pg from 'pg';
import { FHIR_JSON, FhirHttpError, nextLink } from './http';

export const BOT_ACCESS_URL = 'https://hale.health/fhir/StructureDefinition/bot-access';

export interface HaleTarget {
  readonly fhirBase: string;
  /** A `system/*.cruds` token of this server. */
  readonly token: string;
  readonly databaseUrl: string;
}

export interface Answer<T> {
  readonly body: T;
  readonly ms: number;
  /** `Date.now()` when the response's status line and headers arrived (before the body was read). */
  readonly receivedAt: number;
}

export async function request<T = Resource>(
  hale: HaleTarget,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: string,
  contentType = FHIR_JSON
): Promise<Answer<T>> {
  const url = /^https?:/.test(path) ? path : path === '' ? hale.fhirBase : `${hale.fhirBase}/${path}`;
  const start = performance.now();
  const response = await fetch(url, {
    method,
    headers: {
      accept: FHIR_JSON,
      authorization: `Bearer ${hale.token}`,
      ...(body === undefined ? {} : { 'content-type': contentType }),
    },
    body,
  });
  const receivedAt = Date.now();
  const text = await response.text();
  const ms = performance.now() - start;
  if (response.status < 200 || response.status > 299) {
    throw new FhirHttpError(method, url, response.status, text);
  }
  const parsed =
    text === '' ? undefined : /json/.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) : text;
  return { body: parsed as T, ms, receivedAt };
}

export const post = <T = Resource>(hale: HaleTarget, path: string, resource: unknown): Promise<Answer<T>> =>
  request<T>(hale, 'POST', path, JSON.stringify(resource));

/** Creates a Bot whose own token gets `scopes` (none when empty) and deploys `code` to it; returns its id. */
export async function deployBot(hale: HaleTarget, name: string, code: string, scopes: string): Promise<string> {
  const bot: Bot = {
    resourceType: 'Bot',
    name,
    ...(scopes ? { extension: [{ url: BOT_ACCESS_URL, valueString: scopes }] } : {}),
  };
  const { body } = await post<Bot>(hale, 'Bot', bot);
  const id = body.id ?? '';
  await post(hale, `Bot/${id}/$deploy`, {
    resourceType: 'Parameters',
    parameter: [
      { name: 'code', valueString: code },
      { name: 'filename', valueString: `${name}.js` },
    ],
  });
  return id;
}

/** An active rest-hook Subscription that runs the bot; returns its id. */
/** A Subscription delivering to the bot; `maxCount` > 1 batches its events (backport-max-count). */
export async function subscribe(hale: HaleTarget, criteria: string, botId: string, maxCount = 1): Promise<string> {
  const extension =
    maxCount > 1
      ? [
          {
            url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-max-count',
            valuePositiveInt: maxCount,
          },
        ]
      : undefined;
  const { body } = await post<Subscription>(hale, 'Subscription', {
    resourceType: 'Subscription',
    status: 'active',
    reason: 'npm run bench',
    criteria,
    channel: { type: 'rest-hook', endpoint: `Bot/${botId}`, ...(extension ? { extension } : {}) },
  });
  return body.id ?? '';
}

/** Deleting the Subscription stops it at once on this server; its jobs still pending are then dropped. */
export async function unsubscribe(hale: HaleTarget, id: string): Promise<void> {
  await request(hale, 'DELETE', `Subscription/${id}`);
}

/** Every AuditEvent of the bot's runs, following `next` links. */
export async function botRuns(hale: HaleTarget, botId: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  let url: string | undefined = `AuditEvent?entity=Bot/${botId}&_count=200`;
  while (url) {
    const { body }: Answer<Bundle> = await request<Bundle>(hale, 'GET', url);
    out.push(...(body.entry ?? []).flatMap((e) => (e.resource?.resourceType === 'AuditEvent' ? [e.resource] : [])));
    url = nextLink(body);
  }
  return out;
}

/** A detail of the run's AuditEvent (`log`, `duration-ms`, `trace-id`). */
export function runDetail(run: AuditEvent, type: string): string | undefined {
  return run.entity?.[0]?.detail?.find((d) => d.type === type)?.valueString;
}

export interface JobCounts {
  readonly total: number;
  /** pending, queued or running. */
  readonly open: number;
  readonly done: number;
  readonly dead: number;
  /** last_error of a few dead jobs. */
  readonly deadErrors: string[];
}

/** The ledger's rows for one Subscription (or, without one, every row). */
export async function jobCounts(client: pg.Client, subscriptionId?: string): Promise<JobCounts> {
  const { rows } = await client.query<{ state: string; n: string; errors: (string | null)[] }>(
    `SELECT state, count(*) AS n, (array_agg(last_error ORDER BY id))[1:3] AS errors FROM bot_job
      WHERE $1::text IS NULL OR subscription_id = $1 GROUP BY state`,
    [subscriptionId ?? null]
  );
  const count = (state: string): number => Number(rows.find((r) => r.state === state)?.n ?? 0);
  const total = rows.reduce((n, r) => n + Number(r.n), 0);
  return {
    total,
    open: count('pending') + count('queued') + count('running'),
    done: count('done'),
    dead: count('dead'),
    deadErrors: (rows.find((r) => r.state === 'dead')?.errors ?? []).flatMap((e) => (e ? [e] : [])),
  };
}

export interface Drained {
  readonly counts: JobCounts;
  /** performance.now() when the last job was seen finished (or when waiting gave up). */
  readonly at: number;
  readonly timedOut: boolean;
}

/**
 * Polls the ledger every `everyMs` until at least `expected` jobs exist and none is open, or `timeoutMs`
 * has passed. A job's end is seen up to `everyMs` late.
 */
export async function waitForJobs(
  client: pg.Client,
  subscriptionId: string | undefined,
  expected: number,
  o: { timeoutMs: number; everyMs?: number; onProgress?: (c: JobCounts) => void }
): Promise<Drained> {
  const started = performance.now();
  let lastReport = started;
  for (;;) {
    const counts = await jobCounts(client, subscriptionId);
    const now = performance.now();
    if (counts.total >= expected && counts.open === 0) {
      return { counts, at: now, timedOut: false };
    }
    if (now - started > o.timeoutMs) {
      return { counts, at: now, timedOut: true };
    }
    if (o.onProgress && now - lastReport > 10_000) {
      lastReport = now;
      o.onProgress(counts);
    }
    await new Promise((r) => setTimeout(r, o.everyMs ?? 100));
  }
}

export async function connect(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'hale-bench-bots' });
  await client.connect();
  return client;
}

/** Current resources of one type in Hale's database. */
export async function countResources(client: pg.Client, type: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    'SELECT count(*) AS n FROM resource WHERE type = $1 AND NOT deleted',
    [type]
  );
  return Number(rows[0]?.n ?? 0);
}
