/**
 * Remembers which resource a write error is about ("Type/id"), so a failed transaction can
 * name the bundle entry that caused it even though entries are processed out of order.
 * The OperationOutcome object is tagged as well as the error: the batch processor re-wraps
 * entry errors in new OperationOutcomeErrors that carry the same outcome object.
 */
const origins = new WeakMap<object, string>();

export function tagOrigin<E>(err: E, resourceKey: string): E {
  if (err && typeof err === 'object' && !origins.has(err)) {
    origins.set(err, resourceKey);
    const outcome = (err as { outcome?: unknown }).outcome;
    if (outcome && typeof outcome === 'object' && !origins.has(outcome)) {
      origins.set(outcome, resourceKey);
    }
  }
  return err;
}

export function originOf(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') {
    return undefined;
  }
  const outcome = (err as { outcome?: unknown }).outcome;
  return origins.get(err) ?? (outcome && typeof outcome === 'object' ? origins.get(outcome) : undefined);
}
