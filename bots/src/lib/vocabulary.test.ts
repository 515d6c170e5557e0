import { haleConformanceResources } from '@hale/fhir-profiles';
import type { CodeSystem } from '@medplum/fhirtypes';
import {
  BASIC_CODES,
  BOT_STRUCTURE_DEFINITIONS,
  CLINICAL_RULE_PROFILE,
  EXT,
  FLAG_CODES,
  NOTIFICATION_CATEGORIES,
  OBSERVATION_CODES,
  PREFERENCES_PROFILE,
  RULE_ACTIONS,
  RULE_OPERATORS,
  RULE_SEVERITIES,
  STATUS_REASONS,
  SYSTEM,
} from './vocabulary';

const published = haleConformanceResources();

function codesOf(url: string): string[] {
  const cs = published.codeSystems.find((c: CodeSystem) => c.url === url);
  if (!cs) {
    throw new Error(`fhir-profiles publishes no CodeSystem ${url}`);
  }
  return (cs.concept ?? []).map((c) => c.code);
}

describe('the bots vocabulary and fhir-profiles', () => {
  test.each([
    ['basic-code', SYSTEM.basicCode, BASIC_CODES],
    ['clinical-rule-operator', SYSTEM.ruleOperator, RULE_OPERATORS],
    ['clinical-rule-action', SYSTEM.ruleAction, RULE_ACTIONS],
    ['clinical-rule-severity', SYSTEM.ruleSeverity, RULE_SEVERITIES],
    ['notification-category', SYSTEM.notificationCategory, NOTIFICATION_CATEGORIES],
    ['status-reason', SYSTEM.statusReason, STATUS_REASONS],
    ['flag-code', SYSTEM.flagCode, FLAG_CODES],
    ['observation-code', SYSTEM.observationCode, OBSERVATION_CODES],
  ])('the %s codes are the published CodeSystem, in order', (_name, url, codes) => {
    expect(codesOf(url)).toEqual([...codes]);
  });

  test('the task-code and relationship-type systems the bots read are published', () => {
    expect(codesOf(SYSTEM.taskCode)).toContain('data-sharing-request');
    expect(codesOf(SYSTEM.relationshipType)).toEqual(['one-off', 'temporary', 'permanent']);
  });

  test('every profile and extension the bots use is published, with the extension contexts they are used in', () => {
    const urls = published.structureDefinitions.map((sd) => sd.url);
    expect(urls).toEqual(expect.arrayContaining([...BOT_STRUCTURE_DEFINITIONS]));
    const contextOf = (url: string): string[] =>
      (published.structureDefinitions.find((sd) => sd.url === url)?.context ?? []).map((c) => c.expression);
    expect(contextOf(EXT.criterion)).toEqual(['PlanDefinition.action.condition']);
    expect(contextOf(EXT.slotHoldExpires)).toEqual(['Slot']);
    expect(contextOf(EXT.notBefore)).toEqual(['Communication']);
    for (const url of [EXT.preferredChannel, EXT.channelOptOut, EXT.quietHours, EXT.categoryPreference, EXT.language]) {
      expect([url, contextOf(url)]).toEqual([url, ['Basic']]);
    }
    const types = (url: string): string | undefined =>
      published.structureDefinitions.find((sd) => sd.url === url)?.type;
    expect([types(CLINICAL_RULE_PROFILE), types(PREFERENCES_PROFILE)]).toEqual(['PlanDefinition', 'Basic']);
  });
});
