import { Migration } from '@mikro-orm/migrations';

/**
 * The governor's ceiling that holds across worker processes: each line keeps the moments (by the
 * database's clock) its latest `rate_per_second` sends were let go, and `line_send_guard` lets a send go
 * only when the rate-th send before it is a full window old. A per-process record could not see the other
 * processes' sends, so two stalled processes could each stay under the rate and together exceed it.
 */
export class Migration0009LineSendWindow extends Migration {
  async up(): Promise<void> {
    this.addSql(`alter table line_rate_buckets add column recent_sends timestamptz[] not null default '{}'`);
    // Returns 0 when the send may go now (and records it), else the milliseconds to wait before asking again.
    this.addSql(`create function line_send_guard(p_phone_number_id text, p_window_ms double precision) returns double precision
      language plpgsql as $$
      declare
        sends timestamptz[];
        rate integer;
        bucket uuid;
        n integer;
        due timestamptz;
        now_ts timestamptz := clock_timestamp();
      begin
        select b.line_id, b.recent_sends, l.rate_per_second into bucket, sends, rate
          from line_rate_buckets b join whatsapp_lines l on l.id = b.line_id
          where l.phone_number_id = p_phone_number_id
          for update of b;
        if not found then return 0; end if;
        n := cardinality(sends);
        if n >= rate then
          due := sends[n - rate + 1] + make_interval(secs => p_window_ms / 1000);
          if due > now_ts then return extract(epoch from due - now_ts) * 1000; end if;
        end if;
        sends := sends || now_ts;
        n := n + 1;
        if n > rate then sends := sends[n - rate + 1 : n]; end if;
        update line_rate_buckets set recent_sends = sends where line_id = bucket;
        return 0;
      end $$`);
  }
}
