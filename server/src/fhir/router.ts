import type { FhirRequest, FhirResponse, FhirRouteHandler, FhirRouter as FhirRouterType } from '@medplum/fhir-router';
import { FhirRouter } from '@medplum/fhir-router';
import { exportKickoff } from '../bulk/kickoff';
import { importKickoff } from '../bulk/import/kickoff';
import type { Logger } from '../logger';
import type { HaleRepository } from '../storage/repository';
import { SERVICE_UNAVAILABLE_ID, toOutcome } from './errors';
import { botDeployHandler, botRunsHandler, botSecretsHandler } from './operations/bot-admin';
import { binaryContentHandler, binaryUploadHandler, wantsContent } from './operations/binary-content';
import { botExecuteHandler } from './operations/bot-execute';
import { breakGlassHandler } from './operations/break-glass';
import type { OperationDeps } from './operations/context';
import { documentUploadHandler } from './operations/document-upload';
import { everythingHandler } from './operations/everything';
import { checkedGraphql, graphqlGetHandler } from './operations/graphql';
import { historyHandler } from './operations/history';
import { importDeviceHandler } from './operations/import-device';
import { lastnHandler } from './operations/lastn';
import { myPatientsHandler } from './operations/my-patients';
import { requestShareHandler } from './operations/request-share';
import { revokeShareHandler } from './operations/revoke-share';
import { SCHEDULING_ROUTES } from './operations/scheduling';
import { shareHandler } from './operations/share';
import { statsHandler } from './operations/stats';
import { summaryHandler } from './operations/summary';
import { validateHandler } from './operations/validate';
import { searchHandler } from './interactions/search';
import { updateHandler } from './interactions/update';
import { bundleHandler } from './bundle/process';
import { streamedBodyOf } from './streamed-body';

type HaleHandler = (
  req: Parameters<FhirRouteHandler>[0],
  repo: HaleRepository,
  router: FhirRouterType
) => ReturnType<FhirRouteHandler>;

const asRoute =
  (h: HaleHandler): FhirRouteHandler =>
  (req, repo, router) =>
    h(req, repo as HaleRepository, router);

/** An operation that needs more than the caller's repository (OperationDeps). */
const withDeps =
  (h: (req: FhirRequest, repo: HaleRepository, deps: OperationDeps) => Promise<FhirResponse>, deps: OperationDeps) =>
  (req: FhirRequest, repo: HaleRepository): Promise<FhirResponse> =>
    h(req, repo, deps);

/**
 * @medplum/fhir-router serves the REST interactions and $graphql over our repository; Hale
 * adds type/system history, $everything, $validate, the sharing operations ($share, $revoke-share,
 * $request-share, $my-patients, $break-glass), Bulk Data $export, Observation $lastn and $stats,
 * its own batch/transaction handler and a check of the $graphql body.
 * Every handler is wrapped so an unexpected error is logged once, with its stack, and the
 * client gets a bare 500 OperationOutcome.
 */
export function createFhirRouter(logger: Logger, deps: OperationDeps): FhirRouter {
  const router = new FhirRouter();
  router.add('GET', ':resourceType/_history', asRoute(historyHandler), 'history-type');
  router.add('GET', '_history', asRoute(historyHandler), 'history-system');
  router.add('GET', 'Patient/:id/$everything', asRoute(everythingHandler), 'operation');
  router.add('POST', ':resourceType/$validate', asRoute(validateHandler), 'operation');
  router.add('POST', ':resourceType/:id/$validate', asRoute(validateHandler), 'operation');
  router.add('POST', 'Patient/:id/$share', asRoute(shareHandler), 'operation');
  router.add('POST', 'Consent/:id/$revoke-share', asRoute(revokeShareHandler), 'operation');
  router.add('POST', 'Patient/:id/$request-share', asRoute(withDeps(requestShareHandler, deps)), 'operation');
  router.add('POST', 'Patient/:id/$break-glass', asRoute(withDeps(breakGlassHandler, deps)), 'operation');
  router.add('GET', 'Practitioner/$my-patients', asRoute(withDeps(myPatientsHandler, deps)), 'operation');
  // Bots, as on Medplum: the same paths and bodies, so Medplum's client and CLI work against Hale.
  router.add('POST', 'Bot/:id/$deploy', asRoute(botDeployHandler), 'operation');
  router.add('POST', 'Bot/:id/$execute', asRoute(withDeps(botExecuteHandler, deps)), 'operation');
  router.add('GET', 'Bot/:id/$execute', asRoute(withDeps(botExecuteHandler, deps)), 'operation');
  router.add('POST', 'Bot/$execute', asRoute(withDeps(botExecuteHandler, deps)), 'operation');
  router.add('GET', 'Bot/$execute', asRoute(withDeps(botExecuteHandler, deps)), 'operation');
  router.add('GET', 'Bot/:id/$secrets', asRoute(withDeps(botSecretsHandler, deps)), 'operation');
  router.add('POST', 'Bot/:id/$secrets', asRoute(withDeps(botSecretsHandler, deps)), 'operation');
  router.add('GET', 'Bot/$bot-runs', asRoute(withDeps(botRunsHandler, deps)), 'operation');
  router.add('POST', 'Bot/$bot-runs', asRoute(withDeps(botRunsHandler, deps)), 'operation');
  router.add('POST', 'Practitioner/$my-patients', asRoute(withDeps(myPatientsHandler, deps)), 'operation');
  router.add('GET', '$graphql', graphqlGetHandler, 'operation');
  // Measurements (server/src/wellness/): the latest per code, and the portal's chart statistics.
  router.add('GET', 'Observation/$lastn', asRoute(lastnHandler), 'operation');
  router.add('GET', 'Observation/$stats', asRoute(statsHandler), 'operation');
  router.add('POST', 'Observation/$stats', asRoute(statsHandler), 'operation');
  router.add('GET', 'Patient/:id/$summary', asRoute(summaryHandler), 'operation');
  // Device and app export files, streamed (server/src/devices/, docs/device-imports.md).
  const importLimits = {
    maxBytes: deps.deviceImportMaxBytes ?? 4 * 1024 ** 3,
    bundleMaxEntries: deps.bundleMaxEntries,
    systemRepository: () => deps.systemRepository(),
  };
  router.add('POST', 'Patient/:id/$import-device', asRoute(importDeviceHandler(importLimits)), 'operation');
  // Scheduling (server/src/scheduling/, docs/scheduling.md): slots, holds, bookings and their workflow.
  for (const [method, path, handler] of SCHEDULING_ROUTES) {
    router.add(method, path, asRoute(withDeps(handler, deps)), 'operation');
  }
  // Bulk Data $export kick-offs (server/src/bulk/); the status URL and the files are bulk/routes.ts.
  for (const method of ['GET', 'POST'] as const) {
    router.add(method, '$export', asRoute(exportKickoff('system', deps.bulk)), 'operation');
    router.add(method, 'Patient/$export', asRoute(exportKickoff('patient', deps.bulk)), 'operation');
    router.add(method, 'Group/:id/$export', asRoute(exportKickoff('group', deps.bulk)), 'operation');
  }
  router.add('POST', '$import', asRoute(importKickoff(deps.bulk?.imports)), 'operation');
  // Uploads (server/src/uploads/, docs/uploads.md): the file streamed to the blob store, and Binary content read back.
  const uploads = deps.uploads;
  if (uploads) {
    router.add(
      'POST',
      'DocumentReference/$upload',
      asRoute((req, repo) => documentUploadHandler(req, repo, uploads)),
      'operation'
    );
  }
  for (const route of router.router.routes) {
    if (route.method === 'POST' && route.path.length === 1 && route.path[0]?.value === '$graphql') {
      route.handler = checkedGraphql(route.handler);
    } else if (route.method === 'POST' && route.path.length === 0) {
      route.handler = asRoute((req, repo, r) => bundleHandler(req, repo, r, deps.bundleMaxEntries));
    } else if (uploads && route.data?.interaction === 'create') {
      const create = route.handler;
      route.handler = (req, repo, r, options) =>
        req.params.resourceType === 'Binary' && streamedBodyOf(req.body)
          ? binaryUploadHandler(req, repo as HaleRepository, uploads)
          : create(req, repo, r, options);
    } else if (uploads && route.data?.interaction === 'read') {
      const read = route.handler;
      route.handler = (req, repo, r, options) =>
        req.params.resourceType === 'Binary' && wantsContent(req)
          ? binaryContentHandler(req, repo as HaleRepository, uploads)
          : read(req, repo, r, options);
    } else if (route.method === 'PUT' && route.path.length === 2) {
      route.handler = asRoute(updateHandler);
    } else if (route.data?.interaction === 'history-instance') {
      // The router's own passes only _count/offset to readHistory, so _cursor, _since and _at were lost.
      route.handler = asRoute(historyHandler);
    } else if (route.data?.interaction === 'search-type' || route.data?.interaction === 'search-system') {
      route.handler = asRoute(searchHandler);
    }
    const inner = route.handler;
    route.handler = async (req, repo, r, options) => {
      try {
        return await inner(req, repo, r, options);
      } catch (err) {
        const { outcome, unexpected } = toOutcome(err);
        if (unexpected) {
          logger.error({ err, method: req.method, path: req.pathname }, 'unexpected error in FHIR handler');
        } else if (outcome.id === SERVICE_UNAVAILABLE_ID) {
          logger.warn({ err, method: req.method, path: req.pathname }, 'database connection lost: answered 503');
        }
        return [outcome];
      }
    };
  }
  return router;
}
