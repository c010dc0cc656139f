/**
 * Writes many callers' rows as one statement: while a batch is being written, the rows that arrive wait and
 * go together in the next one. Under load this turns one commit (and one WAL flush) per request into one per
 * batch; when idle, a row is written at once, with no timer adding latency.
 *
 * `write` gets the items in order and answers one result per item. When a batch of several fails, each item
 * is written on its own, so one bad row fails only its own caller.
 *
 * `minIntervalMs` spaces batches out for writers nobody waits on (request logs): a batch starts at least that
 * long after the one before, so a busy process pays a bounded number of commits per second for them.
 */
export class Coalescer<T, R> {
  private readonly queue: Array<{ item: T; resolve: (r: R) => void; reject: (err: unknown) => void }> = [];
  private inFlight = 0;
  private lastStartedAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly opts: { maxBatch: number; maxInFlight: number; minIntervalMs?: number },
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const wait = this.lastStartedAt + (this.opts.minIntervalMs ?? 0) - performance.now();
      if (wait > 0) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.lastStartedAt = performance.now();
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.inFlight++;
      void this.writeBatch(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async writeBatch(batch: Array<{ item: T; resolve: (r: R) => void; reject: (err: unknown) => void }>): Promise<void> {
    try {
      const results = await this.write(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i]));
    } catch (err) {
      if (batch.length === 1) return batch[0].reject(err);
      await Promise.all(
        batch.map(async (b) => {
          try {
            const [result] = await this.write([b.item]);
            b.resolve(result);
          } catch (own) {
            b.reject(own);
          }
        }),
      );
    }
  }
}
