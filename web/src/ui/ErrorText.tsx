import { Alert } from '@mantine/core';
import type { ReactNode } from 'react';

/** A refusal or failure, said as a sentence and announced to screen readers. */
export function ErrorText({ error }: { error: string | undefined }): ReactNode {
  return error ? (
    <Alert color="red" role="alert" title="Something went wrong" mb="md">
      {error}
    </Alert>
  ) : null;
}
