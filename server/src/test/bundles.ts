import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import type { TestServer } from './test-server';
import { startTestServer } from './test-server';

/** A fresh `urn:uuid:` fullUrl (a real UUID: that is what the rewriter recognises). */
export const newUrn = (): string => `urn:uuid:${randomUUID()}`;

export const transaction = (entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry });

/** One test server for the tests of a file: started before them, stopped after; call the result to get it. */
export function useTestServer(env?: Record<string, string>): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(env);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) {
      throw new Error('The test server is not started');
    }
    return server;
  };
}
