import { Button, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { postAccount } from '../errors';
import { formText } from '../form-text';
import { ErrorText } from '../ui/ErrorText';
import { Link } from '../ui/Shell';
import { useSubmit } from '../ui/useSubmit';

/**
 * /reset-password?token=…: where the reset mail's link leads (Hale's /auth/reset-password sends the browser here).
 * Opening it changes nothing, so a mail scanner that follows links cannot use up the single-use token; the button
 * POSTs it with the new password to /auth/reset-password. A refused password keeps the link usable.
 */
export default function ResetPassword(): ReactNode {
  const [token] = useState(() => new URLSearchParams(window.location.search).get('token') ?? '');
  const [done, setDone] = useState(false);
  const { busy, error, run } = useSubmit();

  // The token leaves the address bar (and the history, and what a shared screen shows) as soon as it is read.
  useEffect(() => {
    if (window.location.search) {
      window.history.replaceState(null, '', '/reset-password');
    }
  }, []);

  const submit = (e: FormEvent<HTMLElement>): void => {
    e.preventDefault();
    const password = formText(new FormData(e.currentTarget as HTMLFormElement), 'password');
    run(
      () => postAccount('/auth/reset-password', { token, password }),
      () => setDone(true)
    );
  };

  if (done) {
    return (
      <Stack maw={480}>
        <Title order={1}>Password changed</Title>
        <Text role="status">
          Your new password works now, and every other session of yours was signed out.{' '}
          <Link to="/signin">Sign in</Link>.
        </Text>
      </Stack>
    );
  }
  if (!token) {
    return (
      <Stack maw={480}>
        <Title order={1}>Choose a new password</Title>
        <ErrorText error="This page needs the link from the reset email. Ask for a new one if it has expired." />
        <Text>
          <Link to="/forgot-password">Send me a new reset link</Link>
        </Text>
      </Stack>
    );
  }
  return (
    <Stack component="form" maw={480} gap="sm" onSubmit={submit}>
      <Title order={1}>Choose a new password</Title>
      <ErrorText error={error} />
      <PasswordInput
        name="password"
        label="New password"
        description="At least 12 characters; a few unusual words work well"
        autoComplete="new-password"
        required
      />
      <Button type="submit" disabled={busy}>
        Set my new password
      </Button>
      {error && (
        <Text>
          <Link to="/forgot-password">Send me a new reset link</Link>
        </Text>
      )}
    </Stack>
  );
}
