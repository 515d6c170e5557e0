/**
 * Summarises a V8 `.cpuprofile` (written by `node --cpu-prof`): self time by function and
 * inclusive time by function (each sample counted once per function on its stack, so recursion
 * does not double count). Used by `profile-ingest.ts`; also runnable on its own:
 * `npx tsx bench/src/cpu-profile.ts file.cpuprofile [top]`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FunctionTime {
  readonly name: string;
  readonly ms: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly self: FunctionTime[];
  readonly inclusive: FunctionTime[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/(node_modules\/)/, '$1')
    .replace(/^.*\/server\/src\//, '');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

/**
 * `window` (µs on the monotonic clock, i.e. `process.hrtime.bigint() / 1000n` of any process on the
 * machine) keeps only the samples taken inside it, e.g. the ingest without the server's start-up.
 */
export function summarizeProfile(path: string, window?: { from: number; to: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    for (const c of n.children ?? []) {
      parent.set(c, n.id);
    }
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalMs = 0;
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (!node || (window && (t < window.from || t > window.to))) {
      return;
    }
    totalMs += ms;
    const own = label(node);
    self.set(own, (self.get(own) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (n) {
        seen.add(label(n));
      }
    }
    for (const name of seen) {
      inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
    }
  });
  const sorted = (m: Map<string, number>): FunctionTime[] =>
    [...m].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return { totalMs, self: sorted(self), inclusive: sorted(inclusive) };
}

export function renderProfile(summary: ProfileSummary, top = 40): string {
  const pct = (ms: number): string => `${((ms / summary.totalMs) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`Samples cover ${(summary.totalMs / 1000).toFixed(1)} s`, '', 'Self time:'];
  for (const f of summary.self.slice(0, top)) {
    lines.push(`  ${pct(f.ms)} ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
  }
  lines.push('', 'Inclusive time:');
  for (const f of summary.inclusive.slice(0, top)) {
    lines.push(`  ${pct(f.ms)} ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('Usage: tsx bench/src/cpu-profile.ts file.cpuprofile [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${renderProfile(summarizeProfile(file), Number(top ?? 40))}\n`);
}
