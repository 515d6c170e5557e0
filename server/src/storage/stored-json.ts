/**
 * The JSON text a resource object was stored as, kept beside the object so that answering a
 * write does not serialize the same resource a second time (a 300-entry transaction response is
 * ~0.5 MB of JSON). Only objects nothing changes after they were stored are remembered: the
 * versions prepareVersion builds, and a transaction's answer once its last entry has run
 * (fhir/bundle/process.ts). A WeakMap, so remembered objects are collected as usual.
 */
const texts = new WeakMap<object, string>();

export function rememberJson(resource: object, text: string): void {
  texts.set(resource, text);
}

export function storedJson(resource: object): string | undefined {
  return texts.get(resource);
}
