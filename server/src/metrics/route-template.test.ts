import { loadFhirDefinitions } from '../fhir/definitions';
import type { RouteVocabulary } from './route-template';
import { routeTemplate } from './route-template';

const vocabulary: RouteVocabulary = {
  operations: new Set(['export', 'lastn', 'validate']),
  literalPaths: new Set(['/auth/register', '/livez', '/oauth2/token']),
  prefixes: new Set(['auth', 'livez', 'oauth2']),
};

describe('route templates for metric labels', () => {
  // Resource types are recognised from the loaded definitions, as in the server.
  beforeAll(() => {
    loadFhirDefinitions();
  });

  test.each([
    ['/fhir/R4', 200, '/fhir/R4'],
    ['/fhir/R4/', 200, '/fhir/R4'],
    ['/fhir/R4/metadata', 200, '/fhir/R4/metadata'],
    ['/fhir/R4/_history', 200, '/fhir/R4/_history'],
    ['/fhir/R4/$export', 202, '/fhir/R4/$export'],
    ['/fhir/R4/$nonsense', 404, '/fhir/R4/$:operation'],
    ['/fhir/R4/bulkdata/7f7b/files/x.ndjson', 200, '/fhir/R4/bulkdata/*'],
    ['/fhir/R4/Patient', 200, '/fhir/R4/Patient'],
    ['/fhir/R4/Patient/_search', 200, '/fhir/R4/Patient/_search'],
    ['/fhir/R4/Patient/_history', 200, '/fhir/R4/Patient/_history'],
    ['/fhir/R4/Observation/$lastn', 200, '/fhir/R4/Observation/$lastn'],
    ['/fhir/R4/Observation/$lastn', 400, '/fhir/R4/Observation/$lastn'],
    ['/fhir/R4/Appointment/$book', 200, '/fhir/R4/Appointment/$book'],
    ['/fhir/R4/Appointment/$secret-name', 404, '/fhir/R4/Appointment/$:operation'],
    ['/fhir/R4/Patient/abc-123', 200, '/fhir/R4/Patient/:id'],
    ['/fhir/R4/Patient/abc-123/_history', 200, '/fhir/R4/Patient/:id/_history'],
    ['/fhir/R4/Patient/abc-123/_history/4', 200, '/fhir/R4/Patient/:id/_history/:vid'],
    ['/fhir/R4/Patient/abc-123/_history/4/x', 404, '/fhir/R4/Patient/:id/:other'],
    ['/fhir/R4/Patient/abc-123/$validate', 200, '/fhir/R4/Patient/:id/$validate'],
    ['/fhir/R4/Patient/abc-123/Observation', 200, '/fhir/R4/Patient/:id/Observation'],
    ['/fhir/R4/Patient/abc-123/jane@example.org', 404, '/fhir/R4/Patient/:id/:other'],
    ['/fhir/R4/Nonsense/abc', 404, '/fhir/R4/:type/:id'],
    ['/fhir/R4/jane@example.org', 404, '/fhir/R4/:type'],
    ['/auth/register', 202, '/auth/register'],
    ['/auth/verify/0123456789abcdef', 200, '/auth/*'],
    ['/oauth2/token', 200, '/oauth2/token'],
    ['/livez', 200, '/livez'],
    ['/', 200, 'other'],
    ['/jane@example.org', 404, 'other'],
  ])('%s (%d) is %s', (path, status, template) => {
    expect(routeTemplate(path, status, vocabulary)).toBe(template);
  });
});
