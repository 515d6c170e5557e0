import type { Slot } from '@medplum/fhirtypes';
import { PASSWORD, createAccount } from '../../server/src/auth/oauth/test-support';
import { book, daysFromNow, generate, hours } from '../../server/src/scheduling/test-fixtures';
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
 * Appointments in Chromium against a real Hale on PostgreSQL: the patient's upcoming and past visits with cancel
 * and a reschedule request, the provider's day and week (Appointment/$agenda) with confirm. Every step is one of
 * Hale's scheduling operations; the test checks what the screens show of their answers.
 */

const EVERY_DAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

describeInBrowser('appointments in Chromium', () => {
  let patientEmail: string;
  let dr: Awaited<ReturnType<typeof providerAccount>>;
  let slots: (Slot & { id: string })[];

  const rig = portalRig(async ({ h }) => {
    const account = await createAccount(h.s, { name: 'Aroha Ngata' });
    patientEmail = account.email;
    dr = await providerAccount(h, 'Rua', 'Tane');
    const drToken = await tokenFor(h, dr.accountId);
    const schedule = await h.s.create({ resourceType: 'Schedule', active: true, actor: [{ reference: dr.ref }] });
    const made = await generate(
      h.s,
      drToken,
      schedule.id,
      { start: daysFromNow(2), end: daysFromNow(3), timezone: 'UTC', slotMinutes: 30 },
      [hours(EVERY_DAY, '09:00', '11:00')]
    );
    expect(made.status).toBe(200);
    const found = await h.s.search(`Slot?schedule=Schedule/${schedule.id}&_sort=start&_count=100`);
    slots = (found.entry ?? []).map((e) => e.resource as Slot & { id: string });
    // Two visits booked by the patient, as the marketplace's booking does ($book).
    const patientToken = await tokenFor(h, account.id);
    for (const [slot, reason] of [
      [slots[0], 'Check-up'],
      [slots[1], 'Blood pressure review'],
    ] as const) {
      const booked = await book(h.s, patientToken, slot?.id ?? '', [{ name: 'reason', valueString: reason }]);
      expect(booked.status).toBe(201);
    }
  });

  test('the patient cancels one visit with a reason and asks to move the other to a time the schedule offers', async () => {
    const { h, patient } = rig;
    await signInToPortal(patient, h.s.hale.url, patientEmail, PASSWORD);
    await patient.getByRole('link', { name: 'Appointments' }).click();
    await patient.getByRole('heading', { name: 'My appointments' }).waitFor();
    const upcoming = patient.getByRole('region', { name: 'Upcoming' }).getByRole('listitem');
    await upcoming.nth(1).waitFor();
    expect(await upcoming.count()).toBe(2);
    await upcoming.first().getByText('Appointment with Dr Rua Tane · Waiting for confirmation').waitFor();
    await expectAccessible(patient);

    await upcoming.first().getByRole('button', { name: 'Cancel…' }).click();
    await upcoming.first().getByLabel('Why are you cancelling?').fill('I am travelling');
    await upcoming.first().getByRole('button', { name: 'Cancel this visit' }).click();
    await patient.getByRole('status').filter({ hasText: 'was cancelled.' }).waitFor();
    await patient
      .getByRole('region', { name: 'Past and cancelled' })
      .getByRole('listitem')
      .getByText('Appointment with Dr Rua Tane · Cancelled (I am travelling)')
      .waitFor();
    await patient.waitForFunction(`document.querySelectorAll('section[aria-labelledby="upcoming"] li').length === 1`);

    const visit = upcoming.first();
    await visit.getByRole('button', { name: 'Ask for another time…' }).click();
    const times = visit.getByRole('radiogroup', { name: 'Free times in the next two weeks' });
    // The cancelled visit's slot is free again, so $find-slots offers it too.
    await times.getByRole('radio').first().check();
    await visit.getByLabel('Reason (optional)').fill('Earlier suits me better');
    await expectAccessible(patient);
    await visit.getByRole('button', { name: 'Ask to move it' }).click();
    await patient.getByRole('status').filter({ hasText: 'You asked to move your visit to' }).waitFor();
    await upcoming.first().getByText('waiting for an answer', { exact: false }).waitFor();
    expect(await upcoming.first().getByRole('button', { name: 'Ask for another time…' }).count()).toBe(0);
    await expectAccessible(patient);
    await screenshot(patient, 'patient-appointments');
    await expectPhoneSized(patient);
  });

  test("the provider's day shows the booking and the cancellation by the patient's name; confirming books it; the week shows it too", async () => {
    const { h, patient, provider } = rig;
    await signInToPortal(provider, h.s.hale.url, dr.email, PASSWORD);
    await provider.getByRole('link', { name: 'My schedule' }).click();
    await provider.getByRole('heading', { name: 'My schedule' }).waitFor();
    await expectAccessible(provider);
    // The day of the bookings, as the address can say (a reload or a shared link opens the same day).
    await provider.goto(`${h.s.hale.url}/schedule?date=${daysFromNow(2)}&view=day`);
    const items = provider.getByRole('main').getByRole('listitem');
    const pending = items.filter({ hasText: 'Waiting for confirmation' });
    await pending.filter({ hasText: 'Aroha Ngata' }).filter({ hasText: 'Blood pressure review' }).waitFor();
    await items.filter({ hasText: 'Cancelled' }).filter({ hasText: 'Aroha Ngata' }).waitFor();
    await expectAccessible(provider);

    await pending.getByRole('button', { name: 'Confirm Aroha Ngata' }).click();
    await provider.getByRole('status').filter({ hasText: "You confirmed Aroha Ngata's visit" }).waitFor();
    await items.filter({ hasText: 'Booked' }).filter({ hasText: 'Aroha Ngata' }).waitFor();
    await expectAccessible(provider);
    await screenshot(provider, 'provider-schedule');

    await provider.getByText('Week', { exact: true }).click();
    await provider.waitForURL(/view=week/);
    await items.filter({ hasText: 'Booked' }).filter({ hasText: 'Aroha Ngata' }).waitFor();
    await expectAccessible(provider);
    await expectPhoneSized(provider);

    // The patient sees the confirmation on reload.
    await patient.reload();
    await patient
      .getByRole('region', { name: 'Upcoming' })
      .getByText('Appointment with Dr Rua Tane · Booked')
      .waitFor();
  });
});
