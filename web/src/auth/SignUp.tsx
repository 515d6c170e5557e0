import { Button, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { postAccount } from '../errors';
import { ErrorText } from '../ui/ErrorText';
import { Link } from '../ui/Shell';
import { formText } from '../form-text';
import { useSubmit } from '../ui/useSubmit';

/** /signup: a patient account (POST /auth/register); Hale then mails a link that verifies the address. */
export function SignUp(): ReactNode {
  const [sentTo, setSentTo] = useState<string>();
  const { busy, error, run } = useSubmit();

  const submit = (e: FormEvent<HTMLElement>): void => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const value = (name: string): string => formText(form, name).trim();
    run(
      () =>
        postAccount('/auth/register', {
          name: value('name'),
          email: value('email'),
          phone: value('phone').replace(/[\s()-]/g, ''),
          birthDate: value('birthDate'),
          password: formText(form, 'password'),
        }),
      () => setSentTo(value('email'))
    );
  };

  if (sentTo) {
    return (
      <Stack maw={480}>
        <Title order={1}>Check your email</Title>
        <Text role="status">
          We sent a link to {sentTo}. Open it to confirm your address, then <Link to="/signin">sign in</Link>.
        </Text>
      </Stack>
    );
  }
  return (
    <Stack component="form" maw={480} gap="sm" onSubmit={submit}>
      <Title order={1}>Create your Hale account</Title>
      <ErrorText error={error} />
      <TextInput name="name" label="Full name" autoComplete="name" required />
      <TextInput name="email" label="Email" type="email" autoComplete="email" required />
      <TextInput
        name="phone"
        label="Mobile phone"
        description="With the country code, such as +64 21 123 4567"
        type="tel"
        autoComplete="tel"
        required
      />
      <TextInput name="birthDate" label="Date of birth" type="date" autoComplete="bday" required />
      <PasswordInput
        name="password"
        label="Password"
        description="At least 12 characters; a few unusual words work well"
        autoComplete="new-password"
        required
      />
      <Button type="submit" disabled={busy}>
        Create account
      </Button>
      <Text>
        Already have an account? <Link to="/signin">Sign in</Link>.
      </Text>
    </Stack>
  );
}
