import { PASSWORD, createAccount } from '../../server/src/auth/oauth/test-support';
import { sharingConsent } from '../../server/src/test/consent-fixtures';
import { providerAccount, tokenFor } from './people';
import {
  describeInBrowser,
  portalRig,
  expectAccessible,
  expectPhoneSized,
  screenshot,
  signInToPortal,
} from './portal-support';

/*
 * Secure messages in Chromium against a real Hale on PostgreSQL: the patient's and the provider's threads with
 * their unread badges, reading (which marks read) and replying, all through Hale's messaging operations.
 */

describeInBrowser('messages in Chromium', () => {
  let patientEmail: string;
  let patientAccountId: string;
  let patientId: string;
  let dr: Awaited<ReturnType<typeof providerAccount>>;
  let consentId: string;
  let threadId: string;

  const rig = portalRig(async ({ h }) => {
    const account = await createAccount(h.s, { name: 'Aroha Ngata' });
    patientEmail = account.email;
    patientAccountId = account.id;
    patientId = account.patientId as string;
    dr = await providerAccount(h, 'Rua', 'Tane');
    // The relationship messaging needs: the patient shares her record with the provider.
    const consent = await h.s.create(sharingConsent({ patient: patientId, actor: { reference: dr.ref } }));
    consentId = consent.id;
    // The provider writes first, through the API: a new thread and a second message in it.
    const token = await tokenFor(h, dr.accountId);
    const send = (parameter: object[]) =>
      h.s.post(
        'Communication/$send-message',
        { resourceType: 'Parameters', parameter },
        {
          authorization: `Bearer ${token}`,
        }
      );
    const started = await send([
      { name: 'recipient', valueReference: { reference: `Patient/${patientId}` } },
      { name: 'topic', valueString: 'Your results' },
      { name: 'text', valueString: 'Your results look fine.' },
    ]);
    expect(started.status).toBe(201);
    threadId = started.body.parameter.find((p: { name: string }) => p.name === 'thread').resource.id;
    const second = await send([
      { name: 'thread', valueReference: { reference: `Communication/${threadId}` } },
      { name: 'text', valueString: 'Shall we talk them through on Friday?' },
    ]);
    expect(second.status).toBe(200);
  });

  test("the patient sees the provider's thread with 2 unread, reads it (the badge goes) and replies", async () => {
    const { h, patient } = rig;
    await signInToPortal(patient, h.s.hale.url, patientEmail, PASSWORD);
    await patient.getByRole('heading', { name: 'My health' }).waitFor();
    // The navigation says how many are unread, in words.
    await patient.getByRole('link', { name: 'Messages 2 unread' }).click();
    await patient.getByRole('heading', { name: 'Messages', level: 1 }).waitFor();
    await patient.getByRole('status').filter({ hasText: 'You have 2 unread messages.' }).waitFor();
    const thread = patient
      .getByRole('region', { name: 'Conversations' })
      .getByRole('listitem', { name: 'Your results, with Dr Rua Tane, 2 unread' });
    await thread.getByText('2 unread').waitFor();
    await expectAccessible(patient);
    await screenshot(patient, 'patient-messages');
    await expectPhoneSized(patient);

    await thread.getByRole('link', { name: 'Your results' }).click();
    const messages = patient.getByRole('region', { name: 'Messages, oldest first' });
    const fromDr = messages.getByRole('listitem', { name: 'From Dr Rua Tane' });
    await fromDr.nth(1).getByText('Shall we talk them through on Friday?').waitFor();
    expect(await fromDr.first().getByText('Your results look fine.').count()).toBe(1);
    // Opening the thread marked both read: the badge is gone.
    await patient.getByRole('link', { name: 'Messages', exact: true }).waitFor();
    expect(await patient.getByRole('link', { name: 'Messages', exact: true }).getAttribute('aria-current')).toBe(
      'page'
    );

    await patient.getByLabel('Your reply').fill('Friday works for me.');
    await patient.getByRole('button', { name: 'Send reply' }).click();
    await patient.getByRole('status').filter({ hasText: 'Your reply was sent.' }).waitFor();
    await messages.getByRole('listitem', { name: 'From You' }).getByText('Friday works for me.').waitFor();
    await expectAccessible(patient);
    await expectPhoneSized(patient);

    // The provider's side, through the API: one unread (the reply), none left for the patient.
    const threads = await h.s.get('Communication/$threads', {
      authorization: `Bearer ${await tokenFor(h, dr.accountId)}`,
    });
    expect(threads.body.parameter.find((p: { name: string }) => p.name === 'unread').valueInteger).toBe(1);
  });

  test("the provider sees the patient's reply as unread, by her name, and answers it", async () => {
    const { h, patient, provider } = rig;
    await signInToPortal(provider, h.s.hale.url, dr.email, PASSWORD);
    await provider.getByRole('heading', { name: 'My patients' }).waitFor();
    await provider.getByRole('link', { name: 'Messages 1 unread' }).click();
    const thread = provider
      .getByRole('region', { name: 'Conversations' })
      .getByRole('listitem', { name: 'Your results, with Aroha Ngata, 1 unread' });
    await thread.getByRole('link', { name: 'Your results' }).click();
    await provider
      .getByRole('region', { name: 'Messages, oldest first' })
      .getByRole('listitem', { name: 'From Aroha Ngata' })
      .getByText('Friday works for me.')
      .waitFor();
    await provider.getByRole('link', { name: 'Messages', exact: true }).waitFor();
    await provider.getByLabel('Your reply').fill('See you on Friday at 10.');
    await provider.getByRole('button', { name: 'Send reply' }).click();
    await provider.getByRole('status').filter({ hasText: 'Your reply was sent.' }).waitFor();
    await expectAccessible(provider);
    await screenshot(provider, 'provider-messages');

    // Back on the patient's side the new message shows as unread.
    await patient.getByRole('link', { name: 'All conversations' }).click();
    await patient.getByRole('link', { name: 'Messages 1 unread' }).waitFor();
  });

  test('once the patient stops sharing, the thread is gone and opening it says why', async () => {
    const { h, provider } = rig;
    const revoked = await h.s.post(
      `Consent/${consentId}/$revoke-share`,
      { resourceType: 'Parameters' },
      { authorization: `Bearer ${await tokenFor(h, patientAccountId)}` }
    );
    expect(revoked.status).toBe(200);
    await provider.reload();
    const refusal = await provider.getByRole('alert').innerText();
    expect(refusal).toContain('Messages are only between a patient and a provider with an active relationship');
    await expectAccessible(provider);
    await provider.getByRole('link', { name: 'All conversations' }).click();
    await provider.getByText('No conversations yet.').waitFor();
  });
});
