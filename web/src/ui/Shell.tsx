import { Anchor, Badge, Box, Button, Container, Group, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import type { Caller } from '../session';
import { signOut } from '../session';
import { navigate, usePath } from '../router';
import { useUnread } from '../messages/unread';

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
          ['/appointments', 'Appointments'],
          ['/messages', 'Messages'],
          ['/providers', 'My providers'],
          ['/access-log', 'Who saw my record'],
        ]
      : caller?.resourceType === 'Practitioner'
        ? [
            ['/patients', 'My patients'],
            ['/schedule', 'My schedule'],
            ['/messages', 'Messages'],
          ]
        : [];
  const unread = useUnread(
    links.some(([to]) => to === '/messages'),
    path
  );
  // A section is current on its own screen and below it (a thread is in Messages).
  const current = (to: string): boolean => path === to || path.startsWith(`${to}/`);
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
                  aria-current={current(to as string) ? 'page' : undefined}
                  underline={current(to as string) ? 'always' : 'hover'}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(to as string);
                  }}
                >
                  {label}
                  {to === '/messages' && unread ? (
                    // The count is part of the link's name ("Messages 2 unread"), not a colour alone.
                    <Badge ml={6} color="red.9" variant="filled" size="sm" component="span">
                      {unread} unread
                    </Badge>
                  ) : null}
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
