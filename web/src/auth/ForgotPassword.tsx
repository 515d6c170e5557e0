import { Button, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { postAccount } from '../errors';
import { formText } from '../form-text';
import { ErrorText } from '../ui/ErrorText';
import { Link } from '../ui/Shell';
import { useSubmit } from '../ui/useSubmit';

/**
 * /forgot-password: asks Hale to mail a reset link (POST /auth/forgot-password). Hale answers the same whether or
 * not the address has an account, so the screen does too.
 */
export default function ForgotPassword(): ReactNode {
  const [sentTo, setSentTo] = useState<string>();
  const { busy, error, run } = useSubmit();

  const submit = (e: FormEvent<HTMLElement>): void => {
    e.preventDefault();
    const email = formText(new FormData(e.currentTarget as HTMLFormElement), 'email').trim();
    run(
      () => postAccount('/auth/forgot-password', { email }),
      () => setSentTo(email)
    );
  };

  if (sentTo) {
    return (
      <Stack maw={480}>
        <Title order={1}>Check your email</Title>
        <Text role="status">
          If {sentTo} has a Hale account, we sent it a link to choose a new password. The link works for an hour, once.
        </Text>
        <Text>
          Remembered it? <Link to="/signin">Sign in</Link>.
        </Text>
      </Stack>
    );
  }
  return (
    <Stack component="form" maw={480} gap="sm" onSubmit={submit}>
      <Title order={1}>Reset your password</Title>
      <Text>Give the email address you sign in with; we will send it a link to choose a new password.</Text>
      <ErrorText error={error} />
      <TextInput name="email" label="Email" type="email" autoComplete="email" required />
      <Button type="submit" disabled={busy}>
        Send me a reset link
      </Button>
      <Text>
        <Link to="/signin">Back to sign-in</Link>
      </Text>
    </Stack>
  );
}
