import { lookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { isBlockedAddress } from './address';

/** What the bot's fetch asks for, as the prelude sends it. */
export interface EgressRequest {
  url: string;
  method: string;
  headers: [string, string][];
  body?: string;
  redirect: 'follow' | 'manual' | 'error';
}

export interface EgressResponse {
  status: number;
  statusText: string;
  headers: [string, string][];
  url: string;
  redirected: boolean;
  body: string;
}

export interface EgressPolicy {
  allowHosts: ReadonlySet<string>;
  maxBodyBytes: number;
  signal: AbortSignal;
}

/** Refusals a bot may see as its fetch's TypeError message (never a host detail beyond the name it asked for). */
export class EgressRefused extends Error {}

const MAX_REDIRECTS = 5;
const DROPPED_REQUEST_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

/**
 * The bot's fetch: https only, to a host on the allow list, and only when every address the name
 * resolves to is public. The connection goes to the addresses that were checked (the lookup is
 * pinned), so a DNS answer that changes between check and connect cannot reach an inner address;
 * redirects are followed by hand and each hop is checked again.
 */
export async function egressFetch(req: EgressRequest, policy: EgressPolicy): Promise<EgressResponse> {
  let url = parseUrl(req.url);
  let method = req.method.toUpperCase();
  let headers = req.headers.filter(([name]) => !DROPPED_REQUEST_HEADERS.has(name.toLowerCase()));
  let body = req.body;
  for (let hop = 0; ; hop++) {
    const addresses = await checkedAddresses(url, policy.allowHosts);
    const res = await send(url, method, headers, body, addresses, policy);
    const location = res.headers.find(([name]) => name === 'location')?.[1];
    if (!isRedirect(res.status) || !location || req.redirect === 'manual') {
      return { ...res, url: url.href, redirected: hop > 0 };
    }
    if (req.redirect === 'error') {
      throw new EgressRefused(`fetch refused: ${url.href} redirected and redirect is 'error'`);
    }
    if (hop >= MAX_REDIRECTS) {
      throw new EgressRefused(`fetch refused: more than ${MAX_REDIRECTS} redirects`);
    }
    const next = parseUrl(new URL(location, url).href);
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      method = method === 'HEAD' ? 'HEAD' : 'GET';
      body = undefined;
      headers = headers.filter(([name]) => !name.toLowerCase().startsWith('content-'));
    }
    if (next.origin !== url.origin) {
      headers = headers.filter(([name]) => !['authorization', 'cookie'].includes(name.toLowerCase()));
    }
    url = next;
  }
}

function parseUrl(href: string): URL {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    throw new EgressRefused(`fetch refused: not a URL: ${href.slice(0, 200)}`);
  }
  if (url.protocol !== 'https:') {
    throw new EgressRefused(`fetch refused: only https:// URLs may be fetched (${url.protocol})`);
  }
  if (url.username || url.password) {
    throw new EgressRefused('fetch refused: credentials in the URL');
  }
  return url;
}

/** The host's addresses once it is allowed and every address is public; IP literals are judged as they are. */
async function checkedAddresses(url: URL, allowHosts: ReadonlySet<string>): Promise<LookupAddress[]> {
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (!allowHosts.has(host)) {
    throw new EgressRefused(`fetch refused: ${host} is not an allowed host (BOT_FETCH_ALLOW_HOSTS)`);
  }
  const family = isIP(host);
  let addresses: LookupAddress[];
  if (family) {
    addresses = [{ address: host, family }];
  } else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch {
      throw new EgressRefused(`fetch refused: ${host} does not resolve`);
    }
  }
  if (addresses.length === 0 || addresses.some((a) => isBlockedAddress(a.address))) {
    throw new EgressRefused(`fetch refused: ${host} resolves to a loopback, private or link-local address`);
  }
  return addresses;
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function send(
  url: URL,
  method: string,
  headers: [string, string][],
  body: string | undefined,
  addresses: LookupAddress[],
  policy: EgressPolicy
): Promise<Omit<EgressResponse, 'url' | 'redirected'>> {
  const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: url.port || 443,
        path: `${url.pathname}${url.search}`,
        method,
        // Raw header lists get no Host from node; it is the URL's (a bot's own Host header was dropped).
        headers: ['host', url.host, ...headers.flat(), ...(payload ? ['content-length', String(payload.length)] : [])],
        servername: isIP(host) ? undefined : host,
        signal: policy.signal,
        // The addresses checked above, and no others: a second resolution could answer differently.
        lookup: (_name, options, callback) => {
          if ((options as { all?: boolean }).all) {
            (callback as (err: null, list: LookupAddress[]) => void)(null, addresses);
          } else {
            const first = addresses[0] as LookupAddress;
            (callback as (err: null, address: string, family: number) => void)(null, first.address, first.family);
          }
        },
      },
      (res) => void readBody(res, policy.maxBodyBytes).then(resolve, reject)
    );
    req.on('error', (err) => reject(err));
    req.end(payload);
  });
}

function readBody(res: IncomingMessage, maxBytes: number): Promise<Omit<EgressResponse, 'url' | 'redirected'>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy();
        reject(new EgressRefused(`fetch refused: the response is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('error', reject);
    res.on('end', () => {
      const headers: [string, string][] = [];
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
        headers.push([(res.rawHeaders[i] as string).toLowerCase(), res.rawHeaders[i + 1] as string]);
      }
      resolve({
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? '',
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
    });
  });
}
