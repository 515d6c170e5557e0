import { Button, Loader, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { errorSentence } from '../errors';
import { navigate } from '../router';
import { currentCaller, finishSignIn, startSignIn } from '../session';
import { ErrorText } from '../ui/ErrorText';
import { Link } from '../ui/Shell';

/** /signin: starts Hale's sign-in (its own pages ask for the password or a code) and takes the code back. */
export function SignIn({ signedIn }: { signedIn?: string }): ReactNode {
  const params = new URLSearchParams(window.location.search);
  const returning = params.has('code') || params.has('error');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(returning);

  useEffect(() => {
    if (!returning) {
      return;
    }
    finishSignIn(params).then(
      () => {
        const caller = currentCaller();
        navigate(caller?.resourceType === 'Practitioner' ? '/patients' : '/dashboard', true);
      },
      (err: unknown) => {
        window.history.replaceState(null, '', '/signin');
        setError(errorSentence(err));
        setBusy(false);
      }
    );
    // Once per arrival: the code is single use.
  }, []);

  if (busy && !error) {
    return <Loader aria-label="Signing in" />;
  }
  return (
    <Stack maw={480} gap="md">
      <Title order={1}>Sign in to Hale</Title>
      <Text>Your health record, and who you share it with, in one place.</Text>
      <ErrorText error={error} />
      {signedIn && (
        <Text>
          You are signed in. <Link to={signedIn}>Go to your start page</Link>.
        </Text>
      )}
      <Button
        size="md"
        onClick={() => {
          setBusy(true);
          startSignIn().catch((err: unknown) => {
            setError(errorSentence(err));
            setBusy(false);
          });
        }}
      >
        Sign in
      </Button>
      <Text>
        New to Hale? <Link to="/signup">Create an account</Link>.
      </Text>
      <Text>
        <Link to="/forgot-password">Forgot your password?</Link> You can also sign in with a one-time code sent to your
        email or phone: choose it on the next page.
      </Text>
    </Stack>
  );
}
