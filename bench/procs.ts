import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * Resident memory and CPU time of the processes the bench started, read from /proc (Linux). Elsewhere the
 * figures are NaN / empty and the report says n/a.
 */

/** Resident set size in MiB, or NaN when it cannot be read. */
export function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  ticks: number;
}

function readStat(pid: number, file = `/proc/${pid}/stat`): ProcStat | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return { pid, ppid: Number(fields[1]), comm, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds used so far by this process and its descendants, grouped: a descendant counts towards the
 * nearest ancestor named in `roots`; others are grouped by their command name (the Temporal dev server is
 * "temporal"). Other people's processes on the machine never count.
 */
export function cpuSeconds(roots: Record<string, number | undefined>): Map<string, number> {
  const stats = new Map<number, ProcStat>();
  let pids: number[] = [];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return new Map();
  }
  for (const pid of pids) {
    const s = readStat(pid);
    if (s) stats.set(pid, s);
  }
  const named = new Map(Object.entries(roots).filter((e): e is [string, number] => e[1] !== undefined).map(([label, pid]) => [pid, label]));
  named.set(process.pid, 'bench');
  const out = new Map<string, number>();
  for (const s of stats.values()) {
    let label: string | undefined;
    let fallback: string | undefined;
    for (let p: ProcStat | undefined = s, hops = 0; p && hops < 64; p = stats.get(p.ppid), hops++) {
      label = named.get(p.pid);
      if (label) break;
      if (p.ppid === process.pid) fallback = p.comm;
    }
    // Not ours, or ours but unnamed (its top-level ancestor's command names it).
    const group = label === 'bench' && fallback ? fallback : label;
    if (!group) continue;
    out.set(group, (out.get(group) ?? 0) + s.ticks / clockTicks);
  }
  return out;
}

/** Cores used per key of `read` between start() and stop(): CPU seconds over wall seconds, busiest first. */
function meter(read: () => Map<string, number>) {
  let before = new Map<string, number>();
  let startedAt = 0;
  return {
    start() {
      before = read();
      startedAt = Date.now();
    },
    stop(): Record<string, number> {
      const wall = (Date.now() - startedAt) / 1000;
      const cores: Record<string, number> = {};
      for (const [key, secs] of read()) cores[key] = Number(((secs - (before.get(key) ?? 0)) / wall).toFixed(2));
      return Object.fromEntries(Object.entries(cores).sort((a, b) => b[1] - a[1]));
    },
  };
}

/** Cores used by each group of processes (see cpuSeconds). */
export const cpuMeter = (roots: () => Record<string, number | undefined>) => meter(() => cpuSeconds(roots()));

export type CpuMeter = ReturnType<typeof cpuMeter>;

/** "api 0.95, postgres 0.61, …": the groups that used at least 0.05 of a core. */
export const formatCores = (cores: Record<string, number>): string =>
  Object.entries(cores)
    .filter(([, v]) => v >= 0.05)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'n/a';

/** CPU seconds per thread name of one process ("MainThread", "WorkerThread", "tokio-runtime-w", …). */
export function threadCpuSeconds(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (pid === undefined) return out;
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    // Per thread: /proc/<pid>/task/<tid>/stat (/proc/<tid>/stat would count the whole process).
    const s = readStat(Number(tid), `/proc/${pid}/task/${tid}/stat`);
    if (s) out.set(s.comm, (out.get(s.comm) ?? 0) + s.ticks / clockTicks);
  }
  return out;
}

/** Cores used by each thread name of one process. */
export const threadMeter = (pid: () => number | undefined) => meter(() => threadCpuSeconds(pid()));
