import type { WithId } from '@medplum/core';
import type { CareTeam, CareTeamParticipant } from '@medplum/fhirtypes';
import { RELATIONSHIP_SYSTEM } from '../access/consent/vocabulary';
import { notification } from '../scheduling/notice';
import { searchAll } from '../scheduling/store';
import type { HaleRepository } from '../storage/repository';

/**
 * One-off relationships and their visit (docs/consent.md, docs/bots.md "Expiry"). A one-off
 * relationship is a CareTeam with category relationship-type#one-off; it names its visit in
 * `CareTeam.encounter`, and it ends when that visit is finished. The expiry bot ends it on its next
 * run; $finish-visit ends it at once, the same way (status inactive, period.end now), so the
 * provider's access window closes with the visit rather than up to a bot interval later.
 */

const isOneOff = (team: CareTeam): boolean =>
  (team.category ?? []).some((c) =>
    (c.coding ?? []).some((x) => x.system === RELATIONSHIP_SYSTEM && x.code === 'one-off')
  );

/** Active one-off relationships of the patient whose member is one of `providers`. */
async function oneOffWith(
  tx: HaleRepository,
  patientId: string,
  providers: ReadonlySet<string>
): Promise<WithId<CareTeam>[]> {
  const teams = await searchAll<CareTeam>(tx, `CareTeam?subject=Patient/${patientId}&status=active`);
  return teams.filter(
    (t) => isOneOff(t) && (t.participant ?? []).some((p) => providers.has(p.member?.reference ?? ''))
  );
}

/**
 * At the start of a visit: the patient's active one-off relationships with the visit's providers
 * that no visit has claimed yet now name this one (CareTeam.encounter), so finishing it ends them.
 */
export async function attachOneOffRelationships(
  tx: HaleRepository,
  patientId: string,
  providers: ReadonlySet<string>,
  encounterId: string
): Promise<string[]> {
  const attached: string[] = [];
  for (const team of await oneOffWith(tx, patientId, providers)) {
    if (!team.encounter) {
      await tx.updateResource<CareTeam>({ ...team, encounter: { reference: `Encounter/${encounterId}` } });
      attached.push(`CareTeam/${team.id}`);
    }
  }
  return attached;
}

const ended = (p: CareTeamParticipant, end: string): CareTeamParticipant => ({
  ...p,
  period: { ...p.period, end: p.period?.end && Date.parse(p.period.end) < Date.parse(end) ? p.period.end : end },
});

/**
 * When the visit finishes: every active one-off relationship naming it ends now (as the expiry bot
 * would), and both sides get the bot's PHI-free access-ended notice. Returns the CareTeams ended.
 */
export async function endOneOffRelationships(tx: HaleRepository, encounterId: string, now: Date): Promise<string[]> {
  const end = now.toISOString();
  const teams = await searchAll<CareTeam>(tx, `CareTeam?encounter=Encounter/${encounterId}&status=active`);
  const out: string[] = [];
  for (const team of teams.filter(isOneOff)) {
    await tx.updateResource<CareTeam>({
      ...team,
      status: 'inactive',
      period: { ...team.period, end },
      participant: (team.participant ?? []).map((p) => ended(p, end)),
    });
    const patient = team.subject?.reference ?? '';
    for (const recipient of [patient, ...(team.participant ?? []).map((p) => p.member?.reference ?? '')]) {
      if (/^(Patient|Practitioner|PractitionerRole|RelatedPerson)\//.test(recipient)) {
        await tx.createResource(
          notification({
            category: 'access-ended',
            recipient,
            patient,
            about: `CareTeam/${team.id}`,
            text: 'A relationship on your Hale account has ended.',
          })
        );
      }
    }
    out.push(`CareTeam/${team.id}`);
  }
  return out;
}
