import { newResourceId } from './ids';

describe('newResourceId', () => {
  test('is a version 7 UUID, a valid FHIR id', () => {
    const id = newResourceId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
  });

  test('ids of later milliseconds sort after earlier ones, and ids are unique', () => {
    const at = Date.parse('2026-11-21T05:00:00Z');
    const ids = [newResourceId(at), newResourceId(at + 1), newResourceId(at + 1000), newResourceId(at + 86_400_000)];
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]?.slice(0, 13)).toBe(
      `${at.toString(16).padStart(12, '0').slice(0, 8)}-${at.toString(16).padStart(12, '0').slice(8)}`
    );
    expect(new Set(Array.from({ length: 10_000 }, () => newResourceId(at))).size).toBe(10_000);
  });
});
