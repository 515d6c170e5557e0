import { useState } from 'react';
import { errorSentence } from '../errors';

export interface Submit {
  busy: boolean;
  /** The last refusal as a sentence (for ErrorText). */
  error?: string;
  /** Runs the form's action once at a time; a refusal becomes `error` and the form can be sent again. */
  run: (action: () => Promise<void>, done: () => void) => void;
}

/** The state of a form that sends one request: busy while it runs, the server's refusal as a sentence. */
export function useSubmit(): Submit {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = (action: () => Promise<void>, done: () => void): void => {
    setBusy(true);
    setError(undefined);
    action().then(
      () => {
        setBusy(false);
        done();
      },
      (err: unknown) => {
        setBusy(false);
        setError(errorSentence(err));
      }
    );
  };
  return { busy, error, run };
}
