/** Codes of http://hl7.org/fhir/restful-interaction that Hale's FHIR API serves. */
export type RestInteraction =
  | 'read'
  | 'vread'
  | 'update'
  | 'patch'
  | 'delete'
  | 'history-instance'
  | 'history-type'
  | 'history-system'
  | 'create'
  | 'search-type'
  | 'search-system'
  | 'batch'
  | 'transaction'
  | 'operation';

/** AuditEvent.action: Create, Read, Update, Delete, Execute. */
export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';

export interface ClassifiedRequest {
  interaction: RestInteraction;
  /** The type in the path, if any. */
  resourceType?: string;
  /** The id in the path, for instance-level interactions. */
  id?: string;
}

/**
 * What a request under the FHIR base is, from its method and path alone (the same shapes as the
 * router's routes), so requests refused before the router answered are classified too.
 */
export function classifyRequest(method: string, path: string, body: unknown): ClassifiedRequest {
  const [type, id, third, vid] = path.split('/').filter(Boolean);
  if (!type) {
    if (method === 'POST') {
      return { interaction: (body as { type?: string } | undefined)?.type === 'transaction' ? 'transaction' : 'batch' };
    }
    return { interaction: 'search-system' };
  }
  if (type.startsWith('$') || id?.startsWith('$') || third?.startsWith('$')) {
    return { interaction: 'operation', resourceType: type.startsWith('$') ? undefined : type, id: third && id };
  }
  if (type === '_history') {
    return { interaction: 'history-system' };
  }
  if (!id || id === '_search') {
    return { interaction: typeLevel(method, id), resourceType: type };
  }
  if (id === '_history') {
    return { interaction: 'history-type', resourceType: type };
  }
  if (third === '_history') {
    return { interaction: vid ? 'vread' : 'history-instance', resourceType: type, id };
  }
  return { interaction: instanceLevel(method), resourceType: type, id };
}

/** Writes by method, the same at type level (conditional writes) and instance level. */
const WRITES: Readonly<Record<string, RestInteraction>> = { PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

function typeLevel(method: string, second: string | undefined): RestInteraction {
  if (second === '_search' || method === 'GET') {
    return 'search-type';
  }
  return method === 'POST' ? 'create' : (WRITES[method] ?? 'operation');
}

function instanceLevel(method: string): RestInteraction {
  return WRITES[method] ?? 'read';
}

/**
 * The AuditEvent.action of an interaction. Searches are Execute, as in IHE BALP (a query is run);
 * an update that created the resource (201) is a Create.
 */
export function actionOf(interaction: RestInteraction, status: number): AuditAction {
  switch (interaction) {
    case 'create':
      return 'C';
    case 'read':
    case 'vread':
    case 'history-instance':
    case 'history-type':
    case 'history-system':
      return 'R';
    case 'update':
      return status === 201 ? 'C' : 'U';
    case 'patch':
      return 'U';
    case 'delete':
      return 'D';
    case 'search-type':
    case 'search-system':
    case 'batch':
    case 'transaction':
    case 'operation':
      return 'E';
  }
}

export function isSearch(interaction: RestInteraction): boolean {
  return interaction === 'search-type' || interaction === 'search-system';
}
