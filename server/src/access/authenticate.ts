import { OperationOutcomeError, unauthorized } from '@medplum/core';
import type { NextFunction, Request, Response } from 'express';
import type { AccessTokenClaims } from '../auth/types';

declare module 'express-serve-static-core' {
  interface Request {
    /** The verified access token of the request, when it carried one. */
    auth?: AccessTokenClaims;
  }
}

export type TokenVerifier = (token: string) => Promise<AccessTokenClaims>;

/**
 * Requires `Authorization: Bearer <access token>` and puts the verified claims on req.auth.
 * A missing or bad token answers 401 with an OperationOutcome and a WWW-Authenticate header
 * (RFC 6750), before anything else happens.
 */
export function requireBearer(verify: TokenVerifier, realm: string) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.header('authorization') ?? '';
    const match = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
    if (!match?.[1]) {
      res.setHeader('WWW-Authenticate', `Bearer realm="${realm}"`);
      next(new OperationOutcomeError(unauthorized));
      return;
    }
    try {
      req.auth = await verify(match[1]);
      next();
    } catch (err) {
      res.setHeader('WWW-Authenticate', `Bearer realm="${realm}", error="invalid_token"`);
      next(err);
    }
  };
}
