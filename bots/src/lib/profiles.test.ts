import { haleConformanceResources } from '@hale/fhir-profiles';
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import type { Basic, OperationOutcomeIssue, PlanDefinition, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { newPreferences, withCategory, withOptOut, withPreferredChannels, withQuietHours } from './preferences';
import { defaultRules } from './rules/defaults';
import { parseRule } from './rules/rule';
import { newMedplum } from './test-support';
import { CLINICAL_RULE_PROFILE, EXT, PREFERENCES_PROFILE } from './vocabulary';

const sds = haleConformanceResources().structureDefinitions;
const profile = (url: string): StructureDefinition => sds.find((sd) => sd.url === url) as StructureDefinition;

beforeAll(() => {
  newMedplum(); // indexes the base R4 definitions
  indexStructureDefinitionBundle(sds);
});

/** The error issues' expressions and messages when validating against the profile. */
function errors(resource: Resource, url: string): string[] {
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateResource(resource, { profile: profile(url) });
  } catch (err) {
    issues = err instanceof OperationOutcomeError ? (err.outcome.issue ?? []) : [];
  }
  return issues.filter((i) => i.severity === 'error').map((i) => `${i.expression?.join(',')}: ${i.details?.text}`);
}

describe('hale-clinical-rule', () => {
  test.each(defaultRules().map((r) => [r.url, r] as const))('the default rule %s conforms and parses', (_url, rule) => {
    expect(errors(rule, CLINICAL_RULE_PROFILE)).toEqual([]);
    expect(parseRule(rule)).toBeDefined();
  });

  test('parses the blood-pressure rule into metric, window, thresholds, components and occurrences', () => {
    const rule = parseRule(defaultRules().find((r) => r.url?.endsWith('/bp-high')) as PlanDefinition);
    expect(rule).toMatchObject({
      windowDays: 7,
      operator: '>=',
      threshold: { value: 140, code: 'mm[Hg]' },
      component: { code: '8480-6' },
      secondThreshold: { value: 90 },
      secondComponent: { code: '8462-4' },
      occurrences: 2,
      severity: 'warn',
      priority: 'urgent',
      action: 'alert',
    });
    expect(rule?.metric.map((c) => c.code)).toEqual(['85354-9', '55284-4']);
  });

  test('rejects a rule whose operator needs a threshold it lacks, or whose operator is unknown', () => {
    const rule = defaultRules()[0] as PlanDefinition;
    const criterion = rule.action?.[0]?.condition?.[0]?.extension?.find((e) => e.url === EXT.criterion);
    if (!criterion) {
      throw new Error('no criterion');
    }
    criterion.extension = criterion.extension?.filter((e) => e.url !== 'threshold');
    expect(errors(rule, CLINICAL_RULE_PROFILE).join()).toMatch(/hale-rule-threshold/);
    expect(parseRule(rule)).toBeUndefined();
    criterion.extension = criterion.extension?.map((e) =>
      e.url === 'operator' ? { url: 'operator', valueCode: '~' } : e
    );
    expect(errors(rule, CLINICAL_RULE_PROFILE).join()).toMatch(/hale-rule-operator/);
  });

  test('rejects a rule without a window or with two actions', () => {
    const rule = defaultRules()[0] as PlanDefinition;
    const withoutWindow = structuredClone(rule);
    delete withoutWindow.action?.[0]?.input?.[0]?.dateFilter;
    expect(errors(withoutWindow, CLINICAL_RULE_PROFILE).join()).toMatch(/hale-rule-window/);
    const twoActions = { ...rule, action: [...(rule.action ?? []), ...(rule.action ?? [])] };
    expect(errors(twoActions, CLINICAL_RULE_PROFILE).join()).toMatch(/PlanDefinition.action/);
  });
});

describe('hale-communication-preferences', () => {
  const built = (): Basic => {
    let basic = newPreferences({ reference: 'Patient/p1' });
    basic = withPreferredChannels(basic, ['sms', 'email']);
    basic = withOptOut(basic, 'email', '2025-03-01T10:00:00Z');
    basic = withQuietHours(basic, { start: '22:00:00', end: '07:00:00', timeZone: 'Pacific/Auckland' });
    return withCategory(basic, 'weekly-summary', false);
  };

  test('preferences built by lib/preferences.ts conform', () => {
    expect(built().meta?.profile).toEqual([PREFERENCES_PROFILE]);
    expect(errors(built(), PREFERENCES_PROFILE)).toEqual([]);
  });

  test('rejects a channel other than email or sms, two quiet hours, and a missing subject', () => {
    const fax = {
      ...built(),
      extension: [...(built().extension ?? []), { url: EXT.preferredChannel, valueCode: 'fax' }],
    };
    expect(errors(fax, PREFERENCES_PROFILE).join()).toMatch(/hale-preferences-channel/);
    const quiet = built().extension?.find((e) => e.url === EXT.quietHours);
    const twice = { ...built(), extension: [...(built().extension ?? []), quiet ?? { url: EXT.quietHours }] };
    expect(errors(twice, PREFERENCES_PROFILE).join()).toMatch(/hale-preferences-single/);
    const { subject: _s, ...withoutSubject } = built();
    expect(errors(withoutSubject, PREFERENCES_PROFILE).join()).toMatch(/Basic.subject/);
  });
});
