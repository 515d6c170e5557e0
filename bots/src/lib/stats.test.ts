import { DAY_MS } from './fhir';
import { slopePerDay, summarize } from './stats';

const day = (n: number, v: number) => ({ t: Date.parse('2025-03-01T00:00:00Z') + n * DAY_MS, v });

test('the least-squares slope is per day and robust to one odd reading', () => {
  expect(slopePerDay([day(0, 60), day(1, 61), day(2, 62), day(3, 63)])).toBeCloseTo(1);
  expect(slopePerDay([day(0, 60), day(1, 75), day(2, 60), day(3, 60), day(4, 60)])).toBeCloseTo(-1.5);
  expect(slopePerDay([day(0, 60)])).toBeUndefined();
  expect(slopePerDay([day(1, 60), day(1, 70)])).toBeUndefined();
});

test('summarize', () => {
  expect(summarize([day(0, 3), day(1, 1), day(2, 2)])).toEqual({
    count: 3,
    min: 1,
    max: 3,
    mean: 2,
    first: 3,
    last: 2,
  });
  expect(summarize([])).toBeUndefined();
});
