import { Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/**
 * A titled region of a screen holding a list (alerts, goals, visits…): the heading names the region for screen
 * readers, each item is a list item, and an empty list says so in words.
 */
export function ListSection<T>(props: {
  id: string;
  title: string;
  items: T[];
  empty: string;
  render: (item: T) => ReactNode;
  label: (item: T) => string;
  keyOf: (item: T, index: number) => string;
}): ReactNode {
  const { id, title, items, empty, render, label, keyOf } = props;
  return (
    <section aria-labelledby={id}>
      <Title order={2} size="h3" id={id} mb="sm">
        {title}
      </Title>
      {items.length === 0 ? (
        <Text c="dimmed">{empty}</Text>
      ) : (
        <Stack component="ul" gap="xs" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
          {items.map((item, i) => (
            <Paper withBorder p="sm" component="li" key={keyOf(item, i)} aria-label={label(item)}>
              {render(item)}
            </Paper>
          ))}
        </Stack>
      )}
    </section>
  );
}
