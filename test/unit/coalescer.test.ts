import { Coalescer } from '../../core/db/coalescer';

/** A writer that records its batches and finishes each when the test says so. */
function recordingWriter(failIf: (item: number) => boolean = () => false) {
  const batches: number[][] = [];
  const pending: Array<() => void> = [];
  const write = (items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      batches.push(items);
      pending.push(() => (items.some(failIf) ? reject(new Error(`bad item in ${items.join(',')}`)) : resolve(items.map((i) => i * 10))));
    });
  const finishAll = async () => {
    while (pending.length) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { batches, write, finishAll };
}

describe('Coalescer', () => {
  it('writes the first item at once and the items that arrive meanwhile together in the next batch', async () => {
    const w = recordingWriter();
    const c = new Coalescer(w.write, { maxBatch: 100, maxInFlight: 1 });
    const results = [1, 2, 3, 4, 5].map((i) => c.submit(i));
    expect(w.batches).toEqual([[1]]);
    await w.finishAll();
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40, 50]);
    expect(w.batches).toEqual([[1], [2, 3, 4, 5]]);
  });

  it('keeps batches within maxBatch and runs up to maxInFlight of them at once', async () => {
    const w = recordingWriter();
    const c = new Coalescer(w.write, { maxBatch: 2, maxInFlight: 2 });
    const results = [1, 2, 3, 4, 5, 6, 7].map((i) => c.submit(i));
    expect(w.batches).toEqual([[1], [2]]);
    await w.finishAll();
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(w.batches.every((b) => b.length <= 2)).toBe(true);
    expect(w.batches.flat().sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('fails only the caller whose item breaks a batch: the others are written on their own', async () => {
    const w = recordingWriter((i) => i === 3);
    const c = new Coalescer(w.write, { maxBatch: 100, maxInFlight: 1 });
    const first = c.submit(1);
    const rest = [2, 3, 4].map((i) => c.submit(i).then((r) => ({ ok: r }), (err: Error) => ({ err: err.message })));
    await w.finishAll();
    await first;
    expect(await Promise.all(rest)).toEqual([{ ok: 20 }, { err: 'bad item in 3' }, { ok: 40 }]);
  });

  it('starts a batch no sooner than minIntervalMs after the one before, gathering what arrives meanwhile', async () => {
    const starts: Array<{ items: number[]; at: number }> = [];
    const c = new Coalescer(
      async (items: number[]) => {
        starts.push({ items, at: performance.now() });
        return items;
      },
      { maxBatch: 100, maxInFlight: 1, minIntervalMs: 150 },
    );
    await c.submit(1);
    const results = await Promise.all([2, 3, 4].map((i) => c.submit(i)));
    expect(results).toEqual([2, 3, 4]);
    expect(starts.map((s) => s.items)).toEqual([[1], [2, 3, 4]]);
    expect(starts[1].at - starts[0].at).toBeGreaterThanOrEqual(140);
    // Idle for longer than the interval: the next item is written at once.
    await new Promise((r) => setTimeout(r, 200));
    const t = performance.now();
    await c.submit(5);
    expect(starts[2].at - t).toBeLessThan(50);
  });
});
