import { RidPool } from './rid-pool';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A reservation source like the sequence: increasing numbers, and a log of what was asked. */
function sequence(fail = () => false) {
  let next = 1;
  const asked: number[] = [];
  const reserve = async (count: number): Promise<number[]> => {
    asked.push(count);
    if (fail()) {
      throw new Error('connection refused');
    }
    return Array.from({ length: count }, () => next++);
  };
  return { reserve, asked };
}

describe('RidPool', () => {
  test('has nothing before its first block arrives, then hands out each rid once', async () => {
    const { reserve, asked } = sequence();
    const pool = new RidPool(reserve, 10);
    expect(pool.take(3)).toBeUndefined();
    await tick();
    expect(asked).toEqual([10]);
    expect(pool.take(3)).toEqual([1, 2, 3]);
    expect(pool.take(2)).toEqual([4, 5]);
  });

  test('reserves the next block when half a block is left, and keeps what it had', async () => {
    const { reserve, asked } = sequence();
    const pool = new RidPool(reserve, 10);
    pool.take(1);
    await tick();
    expect(pool.take(6)).toEqual([1, 2, 3, 4, 5, 6]); // 4 left: below half a block
    expect(asked).toEqual([10, 10]);
    await tick();
    const rest = [...(pool.take(4) ?? []), ...(pool.take(10) ?? [])];
    expect(rest).toEqual([7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  });

  test('a request larger than what is in hand gets nothing and takes nothing', async () => {
    const { reserve } = sequence();
    const pool = new RidPool(reserve, 10);
    pool.take(1);
    await tick();
    expect(pool.take(11)).toBeUndefined();
    await tick();
    expect(pool.take(11)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  test('a failed reservation leaves the pool empty until a later one succeeds', async () => {
    let down = true;
    const { reserve, asked } = sequence(() => down);
    const pool = new RidPool(reserve, 10);
    expect(pool.take(1)).toBeUndefined();
    await tick();
    expect(pool.take(1)).toBeUndefined(); // and asks again
    await tick();
    down = false;
    expect(pool.take(1)).toBeUndefined();
    await tick();
    expect(pool.take(1)).toEqual([1]);
    expect(asked).toEqual([10, 10, 10]);
  });
});
