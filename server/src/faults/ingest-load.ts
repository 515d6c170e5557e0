/**
 * Concurrent transaction ingest for the fault scenarios, and the checks that nothing acknowledged was lost.
 *
 * Each client sends transaction Bundles one after another. A bundle is a Patient and its Observations plus the
 * Organization every bundle names, all conditional creates keyed by identifiers of the bundle's own tag, so a
 * client that gets no answer (or a 503) sends the very same bundle again until one is acknowledged, as an EHR
 * would: a retry of a bundle that did commit must not create anything twice.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import pg from 'pg';

/** Every resource of a bundle carries its tag under this system; the entries' own keys are under ENTRY. */
const BUNDLE = 'urn:hale-faults:bundle';
const ENTRY = 'urn:hale-faults:entry';
const ORG = 'urn:hale-faults:org';
const OBSERVATIONS_PER_BUNDLE = 4;
/** Patient + Observations; the shared Organization is counted apart. */
export const RESOURCES_PER_BUNDLE = 1 + OBSERVATIONS_PER_BUNDLE;

export interface Target {
  /** FHIR base and a token; both change when Hale restarts (new port, new audience). */
  fhirBase: string;
  token: string;
}

export interface Answer {
  readonly status: number;
  readonly ms: number;
  readonly contentType: string;
  readonly retryAfter?: string;
  readonly resourceType?: string;
}

function entry(tag: string, key: string, resource: Resource, fullUrl?: string): BundleEntry {
  const identifier = [
    { system: BUNDLE, value: tag },
    { system: ENTRY, value: `${tag}/${key}` },
  ];
  return {
    ...(fullUrl ? { fullUrl } : {}),
    resource: { ...resource, identifier } as Resource,
    request: { method: 'POST', url: resource.resourceType, ifNoneExist: `identifier=${ENTRY}|${tag}/${key}` },
  };
}

export function faultBundle(tag: string): Bundle {
  const patient = `urn:uuid:${crypto.randomUUID()}`;
  const observations = Array.from({ length: OBSERVATIONS_PER_BUNDLE }, (_, i) =>
    entry(tag, `obs-${i}`, {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: patient },
      effectiveDateTime: new Date(Date.now() - i * 60_000).toISOString(),
      valueQuantity: { value: 60 + i, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    })
  );
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      entry(tag, 'patient', { resourceType: 'Patient', name: [{ family: 'Fault', given: [tag] }] }, patient),
      ...observations,
      {
        resource: {
          resourceType: 'Organization',
          name: 'Fault Clinic',
          identifier: [{ system: ORG, value: 'shared' }],
        },
        request: { method: 'POST', url: 'Organization', ifNoneExist: `identifier=${ORG}|shared` },
      },
    ],
  };
}

/** What the clients did: every bundle they sent (by tag), which were acknowledged, and every answer. */
/** Every load started, so a failed scenario's afterAll can stop its clients (stopLoads) instead of leaving them on. */
const running = new Set<IngestLoad>();

export async function stopLoads(): Promise<void> {
  await Promise.all([...running].map((l) => l.stop(0)));
}

export class IngestLoad {
  readonly sent = new Set<string>();
  readonly acked = new Set<string>();
  readonly answers: Answer[] = [];
  private stopping = false;
  /** After stop(): when a client gives up on a bundle not yet acknowledged. */
  private deadline = Number.POSITIVE_INFINITY;
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly target: () => Target,
    private readonly o: { clients: number; requestTimeoutMs: number; name: string }
  ) {}

  start(): void {
    running.add(this);
    for (let c = 0; c < this.o.clients; c++) {
      this.loops.push(this.client(c));
    }
  }

  /** Lets each client finish the bundle it is on (acknowledged or given up after `graceMs`), then stops. */
  async stop(graceMs = 20_000): Promise<void> {
    this.deadline = Math.min(this.deadline, Date.now() + graceMs);
    this.stopping = true;
    await Promise.all(this.loops);
    running.delete(this);
  }

  /** Waits until the clients have had `count` more acknowledgements (or the timeout passes). */
  async acknowledged(count: number, timeoutMs: number): Promise<boolean> {
    const want = this.acked.size + count;
    const until = Date.now() + timeoutMs;
    while (this.acked.size < want && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.acked.size >= want;
  }

  private async client(c: number): Promise<void> {
    for (let i = 0; !this.stopping; i++) {
      const tag = `${this.o.name}-${c}-${i}`;
      const body = JSON.stringify(faultBundle(tag));
      this.sent.add(tag);
      // The same bundle until it is acknowledged: a lost answer may hide a commit.
      while (!this.acked.has(tag) && Date.now() < this.deadline) {
        const answer = await this.post(body);
        this.answers.push(answer);
        if (answer.status === 200) {
          this.acked.add(tag);
        } else {
          await new Promise((r) => setTimeout(r, answer.status === 0 ? 100 : 50));
        }
      }
    }
  }

  private async post(body: string): Promise<Answer> {
    const { fhirBase, token } = this.target();
    const start = performance.now();
    try {
      const res = await fetch(fhirBase, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
        body,
        signal: AbortSignal.timeout(this.o.requestTimeoutMs),
      });
      const text = await res.text();
      let resourceType: string | undefined;
      try {
        resourceType = (JSON.parse(text) as { resourceType?: string }).resourceType;
      } catch {
        resourceType = undefined;
      }
      const retryAfter = res.headers.get('retry-after') ?? undefined;
      return {
        status: res.status,
        ms: performance.now() - start,
        contentType: res.headers.get('content-type') ?? '',
        ...(retryAfter ? { retryAfter } : {}),
        ...(resourceType ? { resourceType } : {}),
      };
    } catch {
      // No answer: the connection was refused or reset, or the request outlived its timeout.
      return { status: 0, ms: performance.now() - start, contentType: '' };
    }
  }
}

export interface Integrity {
  /** Bundles acknowledged with 200 whose resources are not all there. */
  readonly lost: string[];
  /** Bundles with some but not all of their resources. */
  readonly partial: string[];
  /** Bundles with a resource twice (a retried conditional create that created again). */
  readonly duplicated: string[];
  /** Organizations with the shared identifier (must be 1). */
  readonly organizations: number;
  /** Acknowledged bundles checked. */
  readonly checked: number;
}

/** Reads the database directly: what is stored, whatever Hale would answer. */
export async function checkIntegrity(databaseUrl: string, load: IngestLoad): Promise<Integrity> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ tag: string; resources: string; keys: string }>(
      `SELECT i->>'value' AS tag, count(*) AS resources, count(DISTINCT k->>'value') AS keys
         FROM resource r
         CROSS JOIN LATERAL jsonb_array_elements(r.content::jsonb->'identifier') i
         CROSS JOIN LATERAL jsonb_array_elements(r.content::jsonb->'identifier') k
        WHERE NOT r.deleted AND i->>'system' = $1 AND k->>'system' = $2
        GROUP BY 1`,
      [BUNDLE, ENTRY]
    );
    const stored = new Map(rows.map((r) => [r.tag, { resources: Number(r.resources), keys: Number(r.keys) }]));
    const [org] = (
      await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM resource r CROSS JOIN LATERAL jsonb_array_elements(r.content::jsonb->'identifier') i
          WHERE r.type = 'Organization' AND NOT r.deleted AND i->>'system' = $1`,
        [ORG]
      )
    ).rows;
    const lost = [...load.acked].filter((t) => (stored.get(t)?.keys ?? 0) !== RESOURCES_PER_BUNDLE);
    const partial = [...load.sent].filter((t) => {
      const keys = stored.get(t)?.keys ?? 0;
      return keys > 0 && keys < RESOURCES_PER_BUNDLE;
    });
    const duplicated = [...stored].filter(([, s]) => s.resources > s.keys).map(([t]) => t);
    return { lost, partial, duplicated, organizations: Number(org?.n ?? 0), checked: load.acked.size };
  } finally {
    await db.end();
  }
}
