/**
 * How well a line was paced, from the moments the provider received its sends: the measure the campaign
 * tests and the benchmark use (target: at least 0.95 of the configured rate, never over it in any second).
 */
export interface PacingReport {
  sent: number;
  /** From the first send to the last. */
  spanMs: number;
  /** Sends after the first, per second of span. */
  achievedPerSecond: number;
  /** achievedPerSecond / the configured rate. */
  ratio: number;
  /** The most sends received in any sliding window of one second. */
  busiestSecond: number;
}

export function pacingOf(receivedAtMs: number[], configuredPerSecond: number): PacingReport {
  const times = [...receivedAtMs].sort((a, b) => a - b);
  const spanMs = times.length > 1 ? times[times.length - 1] - times[0] : 0;
  const achievedPerSecond = spanMs > 0 ? ((times.length - 1) * 1000) / spanMs : 0;
  let busiestSecond = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j] - times[i] >= 1000) i++;
    busiestSecond = Math.max(busiestSecond, j - i + 1);
  }
  return { sent: times.length, spanMs, achievedPerSecond, ratio: achievedPerSecond / configuredPerSecond, busiestSecond };
}
