import { Anchor, Box, Button, Container, Group, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import type { Caller } from '../session';
import { signOut } from '../session';
import { navigate, usePath } from '../router';

export function Link({ to, children }: { to: string; children: ReactNode }): ReactNode {
  return (
    <Anchor
      href={to}
      onClick={(e) => {
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </Anchor>
  );
}

/** The frame of every signed-in screen: the name of the place, its sections, sign-out; one main landmark. */
export function Shell({ caller, children }: { caller?: Caller; children: ReactNode }): ReactNode {
  const path = usePath();
  const links =
    caller?.resourceType === 'Patient'
      ? [
          ['/dashboard', 'My health'],
          ['/providers', 'My providers'],
          ['/access-log', 'Who saw my record'],
        ]
      : caller?.resourceType === 'Practitioner'
        ? [['/patients', 'My patients']]
        : [];
  return (
    <>
      <Box component="header" px="md" py="sm" bg="hale.9" c="white">
        <Group justify="space-between" wrap="wrap">
          <Text fw={700} size="lg" component="p">
            Hale
          </Text>
          {caller && (
            <Group component="nav" aria-label="Sections" gap="md">
              {links.map(([to, label]) => (
                <Anchor
                  key={to}
                  href={to}
                  c="white"
                  // Says which section this is, to screen readers and (underlined) to the eye.
                  aria-current={path === to ? 'page' : undefined}
                  underline={path === to ? 'always' : 'hover'}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(to as string);
                  }}
                >
                  {label}
                </Anchor>
              ))}
              <Button
                variant="white"
                color="dark"
                size="xs"
                onClick={() => {
                  void signOut().then(() => navigate('/signin', true));
                }}
              >
                Sign out
              </Button>
            </Group>
          )}
        </Group>
      </Box>
      <Container component="main" size="md" py="lg">
        {children}
      </Container>
    </>
  );
}
