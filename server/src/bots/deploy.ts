import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { Binary, Bot } from '@medplum/fhirtypes';
import { Script } from 'node:vm';
import type { HaleRepository } from '../storage/repository';

/**
 * Deploys compiled code to a Bot, with the access of `repo`'s caller: the code becomes a Binary
 * and Bot.executableCode points at it (one transaction). Code that does not parse is a 400; it is
 * compiled to check that, never run here.
 */
export async function deployCode(repo: HaleRepository, botId: string, code: string, filename: string): Promise<Bot> {
  try {
    new Script(code, { filename });
  } catch (err) {
    throw new OperationOutcomeError(badRequest(`The code does not parse: ${(err as Error).message}`));
  }
  return repo.withTransaction(async (tx) => {
    const bot = await tx.readResource<Bot>('Bot', botId);
    const binary = await tx.createResource<Binary>({
      resourceType: 'Binary',
      contentType: 'application/javascript',
      data: Buffer.from(code, 'utf8').toString('base64'),
    });
    return tx.updateResource<Bot>({
      ...bot,
      executableCode: { contentType: 'application/javascript', url: `Binary/${binary.id}`, title: filename },
    });
  });
}
