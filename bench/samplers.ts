import fs from 'node:fs';
import type { MikroORM } from '@mikro-orm/postgresql';
import { round } from './stats';

/**
 * Evidence of where a run waits, sampled while it goes: what PostgreSQL's sessions are doing
 * (pg_stat_activity: running, and on what they wait) and how many threads the machine has ready to run
 * (procs_running in /proc/stat; more than the core count means CPU is the queue).
 */

export interface WaitSample {
  samples: number;
  /** Average number of database sessions running a statement (not idle). */
  activeSessions: number;
  /** Average number of sessions open. */
  openSessions: number;
  /** Share of active-session samples per wait event ("CPU" when not waiting). */
  waits: Record<string, number>;
  /** Average runnable threads on the machine; NaN when /proc/stat cannot be read. */
  runnable: number;
  /** Transactions committed in the database while sampling, every process's (a lone statement is one). */
  commits: number;
}

function procsRunning(): number {
  try {
    const match = /^procs_running\s+(\d+)/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export function sampleWaits(orm: MikroORM, intervalMs = 50): { stop(): Promise<WaitSample> } {
  let samples = 0;
  let active = 0;
  let open = 0;
  let runnable = 0;
  const waits = new Map<string, number>();
  let stopped = false;
  const commitCount = async () => {
    const [row] = await orm.em.getConnection().execute<{ n: string }[]>(`select xact_commit as n from pg_stat_database where datname = current_database()`);
    return Number(row.n);
  };
  const commitsBefore = commitCount();
  const loop = (async () => {
    while (!stopped) {
      const rows = await orm.em.getConnection().execute<{ state: string | null; wait: string | null }[]>(
        `select state, wait_event_type || ':' || wait_event as wait from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
      );
      samples++;
      runnable += procsRunning();
      open += rows.length;
      for (const r of rows.filter((x) => x.state === 'active')) {
        active++;
        const key = r.wait ?? 'CPU';
        waits.set(key, (waits.get(key) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      // The statistics collector lags a little; the figure is for orders of magnitude.
      const commits = (await commitCount()) - (await commitsBefore);
      const share = [...waits.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, round(n / Math.max(active, 1), 2)] as const);
      return {
        samples,
        activeSessions: round(active / Math.max(samples, 1), 2),
        openSessions: round(open / Math.max(samples, 1), 2),
        waits: Object.fromEntries(share.slice(0, 6)),
        runnable: round(runnable / Math.max(samples, 1), 2),
        commits,
      };
    },
  };
}

export const waitsText = (w: WaitSample): string =>
  `${w.activeSessions} of ${w.openSessions} database sessions busy on average (` +
  `${Object.entries(w.waits).map(([k, v]) => `${k} ${Math.round(v * 100)} %`).join(', ') || 'none'}), ` +
  `${w.runnable} threads runnable on the machine`;
