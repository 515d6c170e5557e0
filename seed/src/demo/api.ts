import type { Bundle, Parameters, PractitionerRole, Resource } from '@medplum/fhirtypes';
import { issueAccessToken } from '../../../server/src/auth/oauth';
import { ensureCliClient } from '../../../server/src/auth/oauth/cli-commands';
import { PORTAL_CLIENT_ID, PORTAL_SCOPES } from '../../../server/src/auth/oauth/portal-client';
import type { Account } from '../../../server/src/auth/types';
import { LISTING_PROFILES } from '../../../server/src/marketplace/vocabulary';
import type { RunningHale } from '../../../server/src/server';
import { listingExtensions } from './directory';
import { DEMO_PROVIDER_LISTING } from './people';

/** The FHIR API of the seed's Hale, over HTTP as any client, with tokens issued as the token endpoint would. */
export class DemoApi {
  constructor(private readonly hale: RunningHale) {}

  async systemToken(): Promise<string> {
    const clientId = await ensureCliClient(this.hale.authDeps);
    return (await issueAccessToken(this.hale.authDeps, { clientId, scopes: ['system/*.cruds'] })).access_token;
  }

  /** What the portal's sign-in gives the person. */
  async userToken(account: Account): Promise<string> {
    const issued = await issueAccessToken(this.hale.authDeps, {
      clientId: PORTAL_CLIENT_ID,
      scopes: PORTAL_SCOPES,
      accountId: account.id,
    });
    return issued.access_token;
  }

  async request<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.hale.fhirBaseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/fhir+json',
        ...(body ? { 'content-type': 'application/fhir+json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) {
      throw new Error(`${method} ${path || '/'}: HTTP ${res.status} ${text.slice(0, 2000)}`);
    }
    return JSON.parse(text) as T;
  }

  /** POSTs a transaction (all or nothing); the references of what it created, by the entries' fullUrls. */
  async transaction(token: string, bundle: Bundle): Promise<Map<string, string>> {
    const answer = await this.request<Bundle>(token, 'POST', '', bundle);
    const created = new Map<string, string>();
    (answer.entry ?? []).forEach((e, i) => {
      const fullUrl = bundle.entry?.[i]?.fullUrl;
      const location = e.response?.location?.split('/_history/')[0];
      if (fullUrl && location) {
        created.set(fullUrl, location.split('/').slice(-2).join('/'));
      }
    });
    return created;
  }

  /** The approved application's PractitionerRole becomes a marketplace listing (what the listing editor writes). */
  async listDemoProvider(
    token: string,
    practitionerId: string,
    clinic: { organization: string; location: string }
  ): Promise<void> {
    const roles = await this.request<Bundle<PractitionerRole>>(
      token,
      'GET',
      `/PractitionerRole?practitioner=Practitioner/${practitionerId}`
    );
    const role = roles.entry?.[0]?.resource;
    if (!role?.id) {
      throw new Error("The demo provider's PractitionerRole was not found");
    }
    await this.request(token, 'PUT', `/PractitionerRole/${role.id}`, {
      ...role,
      meta: { profile: [LISTING_PROFILES.provider] },
      organization: { reference: clinic.organization },
      location: [{ reference: clinic.location }],
      specialty: [{ coding: [DEMO_PROVIDER_LISTING.specialty] }],
      extension: listingExtensions(DEMO_PROVIDER_LISTING),
    } satisfies PractitionerRole);
  }

  /** Runs a FHIR operation with a Parameters body; the answer's parameters by name (first of each). */
  async operation(token: string, path: string, parameter: Parameters['parameter']): Promise<Map<string, Resource>> {
    const answer = await this.request<Parameters | Resource>(token, 'POST', path, {
      resourceType: 'Parameters',
      parameter,
    });
    const out = new Map<string, Resource>();
    // An operation whose one output is a resource named 'return' answers with the resource itself.
    if (answer.resourceType !== 'Parameters') {
      return out.set('return', answer);
    }
    for (const p of answer.parameter ?? []) {
      if (p.resource && !out.has(p.name)) {
        out.set(p.name, p.resource);
      }
    }
    return out;
  }

  /** Vitals (with activity, sleep, meals and mood) and care plans for 90 days; not labs, not medical history. */
  async share(token: string, patientId: string, practitionerId: string): Promise<string> {
    const parameters: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'actor', valueReference: { reference: `Practitioner/${practitionerId}` } },
        { name: 'category', valueCode: 'vitals' },
        { name: 'category', valueCode: 'care-plans' },
        { name: 'type', valueCode: 'temporary' },
        { name: 'duration', valueInteger: 90 },
      ],
    };
    const answer = await this.request<Parameters>(token, 'POST', `/Patient/${patientId}/$share`, parameters);
    const consent = answer.parameter?.find((p) => p.name === 'consent')?.resource;
    if (!consent?.id) {
      throw new Error('$share answered without a Consent');
    }
    return consent.id;
  }
}
