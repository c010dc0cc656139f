import { perSecond, percentile, slope, summarize } from '../../bench/stats';

describe('benchmark statistics', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose

  it('takes percentiles by nearest rank, always returning a measured value', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([10, 20, 30, 40], 51)).toBe(30);
    expect(percentile([7], 99)).toBe(7);
  });

  it('lets the single slowest of a small sample be its p99', () => {
    const samples = [...Array.from({ length: 19 }, () => 10), 500];
    expect(percentile(samples, 95)).toBe(10);
    expect(percentile(samples, 99)).toBe(500);
  });

  it('does not reorder the caller’s array', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });

  it('answers NaN for no values and refuses a percentile outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
  });

  it('summarizes count, extremes, mean and the reported percentiles', () => {
    expect(summarize(hundred)).toEqual({ count: 100, min: 1, mean: 50.5, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(summarize([]).count).toBe(0);
    expect(summarize([]).p99).toBeNaN();
  });

  it('summarizes a fast baseline’s hundreds of thousands of samples', () => {
    const many = Array.from({ length: 500_000 }, (_, i) => i % 1000);
    expect(summarize(many)).toMatchObject({ count: 500_000, min: 0, max: 999, p50: 499 });
  });

  it('computes rates and least-squares slopes', () => {
    expect(perSecond(500, 250)).toBe(2000);
    expect(perSecond(1, 0)).toBeNaN();
    expect(slope([{ x: 0, y: 100 }, { x: 1000, y: 150 }, { x: 2000, y: 200 }])).toBeCloseTo(0.05);
    expect(slope([{ x: 1, y: 1 }])).toBeNaN();
  });
});
