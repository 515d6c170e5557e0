import { Button, Group, SegmentedControl, Stack, Text, Title } from '@mantine/core';
import type { Appointment } from '@medplum/fhirtypes';
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { ErrorText } from '../ui/ErrorText';
import { ListSection } from '../ui/ListSection';
import { useLoad } from '../ui/useLoad';
import { useSubmit } from '../ui/useSubmit';
import { otherParticipants, statusWords, visitWhat } from './appointment-words';
import { agenda, confirmVisit } from './appointments-api';

type View = 'day' | 'week';
const DAY = 86_400_000;

/** Local midnight of a YYYY-MM-DD (the browser's time zone), or of today. */
function dayOf(text: string | null): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text ?? '');
  const d = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : new Date();
  d.setHours(0, 0, 0, 0);
  return d;
}

const ymd = (d: Date): string =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
const addDays = (d: Date, n: number): Date => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
const dayTitle = (d: Date): string => d.toLocaleDateString(undefined, { dateStyle: 'full' });
const time = (iso: string | undefined): string =>
  iso ? new Date(iso).toLocaleTimeString(undefined, { timeStyle: 'short' }) : '';

/** The first day shown: the day itself, or the Monday of its week. */
function firstDay(day: Date, view: View): Date {
  return view === 'day' ? day : addDays(day, -((day.getDay() + 6) % 7));
}

function Visit({ appt, me, done }: { appt: Appointment; me: string; done: (m: string) => void }): ReactNode {
  const { busy, error, run } = useSubmit();
  const who = otherParticipants(appt, me) || 'A patient';
  return (
    <>
      <Text fw={700}>
        <time dateTime={appt.start}>{time(appt.start)}</time>–<time dateTime={appt.end}>{time(appt.end)}</time> {who}
      </Text>
      <Text size="sm">
        {visitWhat(appt)} · {statusWords(appt)}
        {appt.reasonCode?.[0]?.text && ` · ${appt.reasonCode[0].text}`}
      </Text>
      <ErrorText error={error} />
      {appt.status === 'pending' && (
        <Button
          size="xs"
          mt="xs"
          disabled={busy}
          onClick={() =>
            run(
              () => confirmVisit(appt.id ?? ''),
              () => done(`You confirmed ${who}'s visit at ${time(appt.start)}.`)
            )
          }
        >
          Confirm {who}
        </Button>
      )}
    </>
  );
}

/** /schedule: the provider's appointments for a day or a week (Appointment/$agenda), by day. */
export default function Agenda({ me }: { me: string }): ReactNode {
  const query = new URLSearchParams(window.location.search);
  const [day, setDay] = useState(() => dayOf(query.get('date')));
  const [view, setView] = useState<View>(query.get('view') === 'week' ? 'week' : 'day');
  const [status, setStatus] = useState<string>();
  const from = firstDay(day, view);
  const days = view === 'day' ? 1 : 7;
  const to = addDays(from, days);
  const list = useLoad(() => agenda(from, to), [from.getTime(), days]);

  // The address says what is shown, so a reload or a shared link opens the same day.
  useEffect(() => {
    window.history.replaceState(null, '', `/schedule?date=${ymd(day)}&view=${view}`);
  }, [day, view]);

  const step = (n: number): void => {
    setStatus(undefined);
    setDay(addDays(day, n * days));
  };
  const byDay = Array.from({ length: days }, (_, i) => addDays(from, i)).map((d) => ({
    d,
    items: (list.data ?? []).filter((a) => {
      const t = Date.parse(a.start ?? '');
      return t >= d.getTime() && t < d.getTime() + DAY;
    }),
  }));
  return (
    <Stack gap="md">
      <Title order={1}>My schedule</Title>
      <Group gap="xs" wrap="wrap">
        <SegmentedControl
          aria-label="Show"
          value={view}
          onChange={(v) => setView(v === 'week' ? 'week' : 'day')}
          data={[
            { value: 'day', label: 'Day' },
            { value: 'week', label: 'Week' },
          ]}
        />
        <Button variant="default" size="sm" onClick={() => step(-1)}>
          Previous {view}
        </Button>
        <Button variant="default" size="sm" onClick={() => setDay(dayOf(null))}>
          Today
        </Button>
        <Button variant="default" size="sm" onClick={() => step(1)}>
          Next {view}
        </Button>
      </Group>
      {view === 'week' && <Text>{`${dayTitle(from)} to ${dayTitle(addDays(to, -1))}`}</Text>}
      <ErrorText error={list.error} />
      {status && <Text role="status">{status}</Text>}
      {byDay
        .filter(({ items }) => view === 'day' || items.length > 0)
        .map(({ d, items }) => (
          <ListSection<Appointment>
            key={ymd(d)}
            id={`day-${ymd(d)}`}
            title={dayTitle(d)}
            items={items}
            empty={list.loading ? 'Loading…' : 'No appointments.'}
            keyOf={(a) => a.id ?? ''}
            label={(a) => `${time(a.start)}, ${otherParticipants(a, me) || 'A patient'}`}
            render={(a) => (
              <Visit
                appt={a}
                me={me}
                done={(m) => {
                  setStatus(m);
                  list.reload();
                }}
              />
            )}
          />
        ))}
      {view === 'week' && !list.loading && (list.data ?? []).length === 0 && <Text>No appointments this week.</Text>}
    </Stack>
  );
}
