/**
 * Consent-filtered searches: providers who see patients' data only through sharing Consents.
 * Once consent-load.ts has set up the workload (1,000 patients, 100 providers, ~5 Consents per
 * patient), times a provider's searches against the same URL with the system token (no Consent
 * filtering), interleaved. Where a grant shares vitals without limits, the provider must
 * get exactly what the system token gets; a cross-patient search must show only shared patients.
 */
import type { Bundle, Observation } from '@medplum/fhirtypes';
import type { Share } from './consent-data';
import { loadConsentWorkload, type ConsentOptions, type ConsentWorkload } from './consent-load';
import { HEART_RATE, type Dataset } from './dataset';
import { FHIR_JSON, FhirHttpError, matches, searchWarnings } from './http';
import type { CheckedLatency } from './measure';
import { pick, summarize, warmedUp } from './stats';

const WARM_UP = 5;
const q = encodeURIComponent;

export interface ConsentSearch {
  readonly label: string;
  readonly provider: CheckedLatency;
  readonly system: CheckedLatency;
  /** The system token sees every patient here: the ratio is not like for like. */
  readonly informational: boolean;
  readonly meanMatches: number;
}

export interface ConsentResult {
  readonly workload: ConsentWorkload;
  /** Each provider's first request, which loads and caches its grants. */
  readonly cold: CheckedLatency;
  readonly coldLabel: string;
  readonly searches: ConsentSearch[];
}

export interface ConsentContext {
  readonly fhirBase: string;
  readonly databaseUrl: string;
  readonly systemToken: string;
  readonly data: Dataset;
  readonly patientIds: readonly string[];
  readonly options: ConsentOptions;
  readonly log: (line: string) => void;
}

/** Timed samples and checked errors of one row, as measure.ts reports them. */
class Samples {
  private readonly ms: number[] = [];
  private readonly examples: string[] = [];
  private errors = 0;
  private matched = 0;

  /** `timed`: past the warm-up and not spoilt by the other token's failure; `matches` on the page. */
  add(ms: number, problem: string | undefined, timed: boolean, matches = 0): void {
    if (problem !== undefined) {
      this.errors++;
      if (this.examples.length < 3) {
        this.examples.push(problem);
      }
    } else if (timed) {
      this.ms.push(ms);
      this.matched += matches;
    }
  }

  result(): CheckedLatency {
    return { latency: summarize(this.ms), errors: this.errors, errorExamples: this.examples };
  }

  meanMatches(): number {
    return this.ms.length > 0 ? this.matched / this.ms.length : 0;
  }
}

interface Answer {
  readonly ms: number;
  readonly ids: string[];
  readonly found: Observation[];
  readonly total?: number;
  readonly problem?: string;
}

/** One GET as `token` (the run's other requests all carry the system token), timed as http.ts times them. */
async function searchAs(token: string, url: string): Promise<Answer> {
  const start = performance.now();
  const response = await fetch(url, { headers: { accept: FHIR_JSON, authorization: `Bearer ${token}` } });
  const text = await response.text();
  const ms = performance.now() - start;
  if (response.status !== 200) {
    return { ms, ids: [], found: [], problem: new FhirHttpError('GET', url, response.status, text).message };
  }
  const bundle = JSON.parse(text) as Bundle;
  const found = matches(bundle) as Observation[];
  const warnings = searchWarnings(bundle);
  return {
    ms,
    ids: found.map((r) => r.id ?? ''),
    found,
    total: bundle.total,
    problem: warnings.length > 0 ? `GET ${url}: ${warnings.join('; ')}` : undefined,
  };
}

/** The provider's page must be the system token's: same matches, same order, same total. */
const sameAnswer = (url: string, provider: Answer, system: Answer): string | undefined =>
  provider.problem ??
  (system.ids.length === 0
    ? `GET ${url}: no matches with the system token`
    : provider.ids.join() !== system.ids.join() || provider.total !== system.total
      ? `GET ${url}: the provider got ${provider.ids.length} matches (total ${provider.total}), the system token ${system.ids.length} (total ${system.total}), or another order`
      : undefined);

/** Times both tokens on the same URL, alternating which goes first. */
async function pairOf(
  url: string,
  providerToken: string,
  systemToken: string,
  providerFirst: boolean
): Promise<{ provider: Answer; system: Answer }> {
  if (providerFirst) {
    const provider = await searchAs(providerToken, url);
    return { provider, system: await searchAs(systemToken, url) };
  }
  const system = await searchAs(systemToken, url);
  return { provider: await searchAs(providerToken, url), system };
}

interface Row {
  readonly provider: Samples;
  readonly system: Samples;
}

/** The system token's own failures count on its row, the provider's failures and wrong answers on the provider's. */
function record(
  row: Row,
  answer: { provider: Answer; system: Answer },
  timed: boolean,
  providerProblem: (a: { provider: Answer; system: Answer }) => string | undefined
): void {
  const systemProblem = answer.system.problem;
  const problem = systemProblem === undefined ? providerProblem(answer) : answer.provider.problem;
  row.system.add(answer.system.ms, systemProblem, timed && problem === undefined);
  row.provider.add(answer.provider.ms, problem, timed && systemProblem === undefined, answer.provider.ids.length);
}

/** A provider's cross-patient match must belong to a patient who shares vitals with them, dated within the share. */
function leak(found: readonly Observation[], vitals: ReadonlyMap<string, Share>): string | undefined {
  for (const o of found) {
    const share = vitals.get((o.subject?.reference ?? '').replace(/^Patient\//, ''));
    const effective = Date.parse(o.effectiveDateTime ?? '');
    const inPeriod =
      !share?.dataPeriod ||
      (effective >= Date.parse(share.dataPeriod.start) - 86_400_000 &&
        effective <= Date.parse(share.dataPeriod.end) + 2 * 86_400_000);
    if (!share || !inPeriod) {
      return `Observation/${o.id} of ${o.subject?.reference} (${o.effectiveDateTime}) is not shared with this provider`;
    }
  }
  return undefined;
}

interface Measuring {
  readonly base: string;
  readonly systemToken: string;
  /** Provider tokens, by provider index. */
  readonly tokens: readonly string[];
  readonly shares: readonly Share[];
  /** The measured (provider, patient) pairs, in random order. */
  readonly measured: readonly Share[];
  readonly since: string;
}

interface SearchCase {
  readonly label: string;
  readonly url: (patient: string) => string;
}

const rowOf = (label: string, row: Row, informational: boolean): ConsentSearch => ({
  label,
  provider: row.provider.result(),
  system: row.system.result(),
  informational,
  meanMatches: row.provider.meanMatches(),
});

/** The first request of each provider, which loads its grants (the cache is cold after the Consents were written). */
async function coldLoads(m: Measuring, c: SearchCase): Promise<CheckedLatency> {
  const cold = new Samples();
  for (const [provider, token] of m.tokens.entries()) {
    const first = m.measured.find((s) => s.provider === provider);
    if (first) {
      const answer = await searchAs(token, c.url(first.patientId));
      cold.add(answer.ms, answer.problem, true);
    }
  }
  return cold.result();
}

/** Per-patient searches for every measured pair, provider and system token interleaved. */
async function perPatientSearches(m: Measuring, cases: readonly SearchCase[]): Promise<ConsentSearch[]> {
  const rows: Row[] = cases.map(() => ({ provider: new Samples(), system: new Samples() }));
  for (const [i, share] of warmedUp(m.measured, WARM_UP).entries()) {
    for (const [c, row] of rows.entries()) {
      const url = (cases[c] as SearchCase).url(share.patientId);
      const answer = await pairOf(url, m.tokens[share.provider] as string, m.systemToken, (i + c) % 2 === 0);
      record(row, answer, i >= WARM_UP, (a) => sameAnswer(url, a.provider, a.system));
    }
  }
  return cases.map((c, i) => rowOf(c.label, rows[i] as Row, false));
}

/** Each provider's first page of vital signs over all the patients who share with them (default order). */
async function crossPatientSearch(m: Measuring): Promise<ConsentSearch> {
  const warmUp = 2;
  const row: Row = { provider: new Samples(), system: new Samples() };
  const label = 'Observation?category=vital-signs&_count=20';
  const url = `${m.base}/${label}`;
  for (const [i, provider] of warmedUp([...m.tokens.keys()], warmUp).entries()) {
    const vitals = new Map(
      m.shares.filter((s) => s.provider === provider && s.categories.includes('vitals')).map((s) => [s.patientId, s])
    );
    const answer = await pairOf(url, m.tokens[provider] as string, m.systemToken, i % 2 === 0);
    record(
      row,
      answer,
      i >= warmUp,
      (a) =>
        a.provider.problem ??
        (a.provider.ids.length === 0 ? `GET ${url}: no matches for a provider with vitals shared` : undefined) ??
        leak(a.provider.found, vitals)
    );
  }
  return rowOf(label, row, true);
}

export async function consentSearches(ctx: ConsentContext): Promise<ConsentResult> {
  const { workload, shares, tokens } = await loadConsentWorkload({
    fhirBase: ctx.fhirBase,
    databaseUrl: ctx.databaseUrl,
    seed: ctx.data.seed,
    patientIds: ctx.patientIds,
    // Measured pairs need heart rates since the cut-off, or the code+date search would match nothing.
    measurable: new Set(ctx.patientIds.filter((_, i) => (ctx.data.patients[i]?.expected.heartRateSince ?? 0) > 0)),
    options: ctx.options,
    log: ctx.log,
  });
  const m: Measuring = {
    base: ctx.fhirBase,
    systemToken: ctx.systemToken,
    tokens,
    shares,
    measured: pick(
      shares.filter((s) => s.measured),
      shares.length,
      ctx.data.seed + 12
    ),
    since: ctx.data.since,
  };
  ctx.log(`  ${m.measured.length} measured (provider, patient) pairs, ${tokens.length} providers…`);
  const cases: SearchCase[] = [
    {
      label: 'Observation?patient=X&category=vital-signs&_sort=-date',
      url: (patient) => `${m.base}/Observation?patient=${patient}&category=vital-signs&_sort=-date`,
    },
    {
      label: `Observation?patient=X&code=${HEART_RATE}&date=ge${m.since}&_sort=-date`,
      url: (patient) => `${m.base}/Observation?patient=${patient}&code=${q(HEART_RATE)}&date=ge${m.since}&_sort=-date`,
    },
  ];
  const cold = await coldLoads(m, cases[0] as SearchCase);
  const searches = [...(await perPatientSearches(m, cases)), await crossPatientSearch(m)];
  return { workload, cold, coldLabel: cases[0]?.label ?? '', searches };
}
