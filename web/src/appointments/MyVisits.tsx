import { Button, Group, Radio, Stack, Text, TextInput, Title } from '@mantine/core';
import type { Slot } from '@medplum/fhirtypes';
import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { formText } from '../form-text';
import { ErrorText } from '../ui/ErrorText';
import { formatWhen } from '../ui/format';
import { ListSection } from '../ui/ListSection';
import { useLoad } from '../ui/useLoad';
import { useSubmit } from '../ui/useSubmit';
import { statusWords, visitWhat } from './appointment-words';
import type { PatientVisit } from './appointments-api';
import { askToReschedule, cancelVisit, myVisits, otherTimes } from './appointments-api';

function title(v: PatientVisit): string {
  return `${visitWhat(v.appointment)}${v.with ? ` with ${v.with}` : ''}`;
}

function When({ iso }: { iso: string | undefined }): ReactNode {
  return iso ? <time dateTime={iso}>{formatWhen(iso)}</time> : null;
}

/** "Cancel" asks why (Hale records it as the cancelation reason), then $cancel. */
function CancelForm({ visit, done }: { visit: PatientVisit; done: (message: string) => void }): ReactNode {
  const { busy, error, run } = useSubmit();
  const submit = (e: FormEvent<HTMLElement>): void => {
    e.preventDefault();
    const reason = formText(new FormData(e.currentTarget as HTMLFormElement), 'reason').trim();
    run(
      () => cancelVisit(visit.appointment.id ?? '', reason),
      () => done(`Your visit on ${formatWhen(visit.appointment.start)} was cancelled.`)
    );
  };
  return (
    <Stack component="form" gap="xs" mt="sm" onSubmit={submit}>
      <ErrorText error={error} />
      <TextInput name="reason" label="Why are you cancelling?" maxLength={1000} required />
      <Group>
        <Button type="submit" color="red.9" disabled={busy}>
          Cancel this visit
        </Button>
      </Group>
    </Stack>
  );
}

/** "Ask for another time": the times the schedule offers ($find-slots), one chosen, then $reschedule. */
function RescheduleForm({ visit, done }: { visit: PatientVisit; done: (message: string) => void }): ReactNode {
  const times = useLoad(() => otherTimes(visit.scheduleId ?? ''), [visit.scheduleId]);
  const { busy, error, run } = useSubmit();
  const slots: Slot[] = (times.data ?? []).slice(0, 12);
  const submit = (e: FormEvent<HTMLElement>): void => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const slotId = formText(form, 'slot');
    const slot = slots.find((s) => s.id === slotId);
    run(
      () => askToReschedule(visit.appointment.id ?? '', slotId, formText(form, 'reason').trim()),
      () => done(`You asked to move your visit to ${formatWhen(slot?.start)}. You will hear back.`)
    );
  };
  if (times.error) {
    return <ErrorText error={times.error} />;
  }
  if (times.loading) {
    return <Text c="dimmed">Looking for other times…</Text>;
  }
  if (slots.length === 0) {
    return <Text mt="sm">There are no other free times in the next two weeks.</Text>;
  }
  return (
    <Stack component="form" gap="xs" mt="sm" onSubmit={submit}>
      <ErrorText error={error} />
      <Radio.Group name="slot" label="Free times in the next two weeks" required>
        <Stack gap={4} mt={4}>
          {slots.map((s) => (
            <Radio key={s.id} value={s.id ?? ''} label={formatWhen(s.start)} />
          ))}
        </Stack>
      </Radio.Group>
      <TextInput name="reason" label="Reason (optional)" maxLength={1000} />
      <Group>
        <Button type="submit" disabled={busy}>
          Ask to move it
        </Button>
      </Group>
    </Stack>
  );
}

function Upcoming({ visit, done }: { visit: PatientVisit; done: (message: string) => void }): ReactNode {
  const [open, setOpen] = useState<'cancel' | 'reschedule'>();
  const a = visit.appointment;
  const finished = (message: string): void => {
    setOpen(undefined);
    done(message);
  };
  return (
    <>
      <Text fw={700}>
        <When iso={a.start} />
      </Text>
      <Text size="sm">
        {title(visit)} · {statusWords(a)}
      </Text>
      {visit.requested !== undefined && (
        <Text size="sm">
          You asked to move it to <When iso={visit.requested} />; waiting for an answer.
        </Text>
      )}
      <Group gap="xs" mt="xs">
        <Button size="xs" variant="default" onClick={() => setOpen(open === 'cancel' ? undefined : 'cancel')}>
          Cancel…
        </Button>
        {visit.scheduleId && visit.requested === undefined && (
          <Button size="xs" variant="default" onClick={() => setOpen(open === 'reschedule' ? undefined : 'reschedule')}>
            Ask for another time…
          </Button>
        )}
      </Group>
      {open === 'cancel' && <CancelForm visit={visit} done={finished} />}
      {open === 'reschedule' && <RescheduleForm visit={visit} done={finished} />}
    </>
  );
}

/** /appointments: the patient's upcoming visits (cancel, ask for another time) and past ones. */
export default function MyVisits({ patientId }: { patientId: string }): ReactNode {
  const visits = useLoad(() => myVisits(patientId), [patientId]);
  const [status, setStatus] = useState<string>();
  const done = (message: string): void => {
    setStatus(message);
    visits.reload();
  };
  return (
    <Stack gap="lg">
      <Title order={1}>My appointments</Title>
      <ErrorText error={visits.error} />
      {status && <Text role="status">{status}</Text>}
      <ListSection<PatientVisit>
        id="upcoming"
        title="Upcoming"
        items={visits.data?.upcoming ?? []}
        empty={visits.loading ? 'Loading…' : 'No upcoming appointments.'}
        keyOf={(v) => v.appointment.id ?? ''}
        label={(v) => `${title(v)}, ${formatWhen(v.appointment.start)}`}
        render={(v) => <Upcoming visit={v} done={done} />}
      />
      <ListSection<PatientVisit>
        id="past"
        title="Past and cancelled"
        items={visits.data?.past ?? []}
        empty={visits.loading ? 'Loading…' : 'None yet.'}
        keyOf={(v) => v.appointment.id ?? ''}
        label={(v) => `${title(v)}, ${formatWhen(v.appointment.start)}`}
        render={(v) => (
          <>
            <Text fw={700}>
              <When iso={v.appointment.start} />
            </Text>
            <Text size="sm">
              {title(v)} · {statusWords(v.appointment)}
              {v.appointment.cancelationReason?.text && ` (${v.appointment.cancelationReason.text})`}
            </Text>
          </>
        )}
      />
    </Stack>
  );
}
