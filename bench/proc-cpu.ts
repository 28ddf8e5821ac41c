// CPU time of a gateway process from /proc: utime + stime of the process and of every live
// descendant (ext-proc workers), plus cutime + cstime (descendants already reaped), so a process
// that forks keeps its children's work on its own bill; and the time its threads waited for a CPU.
import { readFile, readdir } from 'node:fs/promises';

/** The fields of /proc/<pid>/stat the bench uses; times in clock ticks. */
export interface ProcStat {
  pid: number;
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/**
 * Parses /proc/<pid>/stat (proc(5)). The command name is in parentheses and may itself hold
 * spaces or parentheses, so the fields are counted from the last ")".
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  const open = text.indexOf('(');
  if (close < 0 || open < 0) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // After ") " come field 3 (state), 4 (ppid), … 14 (utime), 15 (stime), 16 (cutime), 17 (cstime).
  const f = text.slice(close + 2).trim().split(/\s+/);
  const n = (field: number) => Number(f[field - 3]);
  const stat = { pid, ppid: n(4), utime: n(14), stime: n(15), cutime: n(16), cstime: n(17) };
  return Object.values(stat).every(Number.isFinite) ? stat : undefined;
}

/** Linux reports /proc times in USER_HZ, which is 100 on every mainstream architecture. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** CPU milliseconds of one stat line, children reaped so far included. */
export function statCpuMs(stat: ProcStat, withReapedChildren: boolean): number {
  const ticks = stat.utime + stat.stime + (withReapedChildren ? stat.cutime + stat.cstime : 0);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

async function readStat(pid: number): Promise<ProcStat | undefined> {
  return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''));
}

/** Live children of a process (every thread's list: a child belongs to the thread that forked it). */
async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const lists = await Promise.all(tasks.map((t) => readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '')));
  return lists.flatMap((l) => l.split(/\s+/).filter(Boolean).map(Number));
}

/**
 * CPU milliseconds used so far by a process and all its descendants, live or reaped. Take two
 * readings around a measured window: the difference is that window's CPU.
 */
export async function treeCpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const root = await readStat(pid);
  if (!root) return 0;
  let total = statCpuMs(root, true);
  const queue = await childrenOf(pid);
  for (let child = queue.shift(); child !== undefined; child = queue.shift()) {
    const s = await readStat(child);
    if (!s) continue;
    // A live descendant's own reaped children are in its cutime, not yet in ours.
    total += statCpuMs(s, true);
    queue.push(...(await childrenOf(child)));
  }
  return total;
}

/**
 * Time a thread spent runnable but waiting for a CPU, from /proc/<pid>/task/<tid>/schedstat
 * ("<ns on CPU> <ns waiting on a run queue> <timeslices>"); undefined when unreadable.
 */
export function parseSchedstatWaitNs(text: string): number | undefined {
  const wait = Number(text.trim().split(/\s+/)[1]);
  return text.trim() && Number.isFinite(wait) ? wait : undefined;
}

/**
 * Milliseconds the threads of a process and of its live descendants have spent waiting for a
 * CPU so far (the kernel's schedstat): on a busy machine, where a request's time goes when it is
 * not spent working. Threads that already exited are not counted.
 */
export async function treeRunQueueWaitMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  let ns = 0;
  const queue = [pid];
  for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
    const tasks = await readdir(`/proc/${p}/task`).catch(() => [] as string[]);
    for (const t of tasks) ns += parseSchedstatWaitNs(await readFile(`/proc/${p}/task/${t}/schedstat`, 'utf8').catch(() => '')) ?? 0;
    queue.push(...(await childrenOf(p)));
  }
  return ns / 1e6;
}

/** Peak resident set size (VmHWM) of a live process, in bytes; 0 when unknown. */
export function parsePeakRss(status: string): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

/** Peak RSS of a process and its live descendants (each one's own peak), in bytes. */
export async function treePeakRss(pid: number | undefined): Promise<number[]> {
  if (pid === undefined) return [];
  const out: number[] = [];
  const queue = [pid];
  for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
    const rss = parsePeakRss(await readFile(`/proc/${p}/status`, 'utf8').catch(() => ''));
    if (rss > 0) out.push(rss);
    queue.push(...(await childrenOf(p)));
  }
  return out;
}
