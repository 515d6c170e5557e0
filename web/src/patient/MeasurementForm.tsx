import { Button, Group, NumberInput, Paper, SegmentedControl, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { errorSentence } from '../errors';
import { medplum } from '../session';
import { ErrorText } from '../ui/ErrorText';
import type { MeasurementKind } from './measurements';
import { MEASUREMENTS, buildObservation, formatReading, specOf } from './measurements';
import { formText } from '../form-text';

/** A local date-time for <input type="datetime-local">, now. */
function nowLocal(): string {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

/** Enter one reading; Hale checks it against the measurement's profile and says what is wrong if it is not. */
export function MeasurementForm({ patientId, onSaved }: { patientId: string; onSaved: () => void }): ReactNode {
  const [kind, setKind] = useState<MeasurementKind>('blood-pressure');
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const [busy, setBusy] = useState(false);
  const spec = specOf(kind);

  const submit = (e: FormEvent<HTMLElement>): void => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const values: Record<string, number> = {};
    for (const f of spec.fields) {
      const v = Number(formText(form, f.name).replace(',', '.'));
      if (!Number.isFinite(v) || v < f.min || v > f.max) {
        setError(`${f.label} must be a number from ${f.min} to ${f.max} ${f.unitLabel}.`);
        return;
      }
      values[f.name] = v;
    }
    const when = new Date(formText(form, 'effective'));
    if (Number.isNaN(when.getTime()) || when.getTime() > Date.now() + 60_000) {
      setError('The time of the reading must be a date and time that is not in the future.');
      return;
    }
    setBusy(true);
    setError(undefined);
    medplum.createResource(buildObservation(kind, patientId, values, when)).then(
      (stored) => {
        setSaved(`Saved: ${spec.label} ${formatReading(stored)}.`);
        setBusy(false);
        onSaved();
      },
      (err: unknown) => {
        setError(errorSentence(err));
        setBusy(false);
      }
    );
  };

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="enter-measurement">
      <Title order={2} size="h3" id="enter-measurement" mb="sm">
        Add a measurement
      </Title>
      <Stack component="form" gap="sm" onSubmit={submit} key={kind}>
        <SegmentedControl
          aria-label="Measurement"
          value={kind}
          onChange={(v) => {
            setKind(v as MeasurementKind);
            setError(undefined);
          }}
          data={MEASUREMENTS.map((m) => ({ value: m.kind, label: m.label }))}
        />
        <ErrorText error={error} />
        <Group grow align="flex-start">
          {spec.fields.map((f) => (
            <NumberInput
              key={f.name}
              name={f.name}
              label={`${f.label} (${f.unitLabel})`}
              min={f.min}
              max={f.max}
              decimalScale={2}
              required
            />
          ))}
        </Group>
        <TextInput name="effective" label="When" type="datetime-local" defaultValue={nowLocal()} required />
        <Group>
          <Button type="submit" disabled={busy}>
            Save {spec.label.toLowerCase()}
          </Button>
          {saved && (
            <Text role="status" c="hale.9">
              {saved}
            </Text>
          )}
        </Group>
      </Stack>
    </Paper>
  );
}
