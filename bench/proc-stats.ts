import fs from 'node:fs';

/**
 * Peak RSS is read from the server process itself (Linux: VmHWM in /proc/PID/status), never from
 * the client. Each scenario starts fresh server processes, and before each repetition the peak is
 * reset by writing "5" to /proc/PID/clear_refs, so one repetition's peak is that repetition's own.
 * The reset lowers the mark to the *current* RSS, not to a cold start; with a fresh process per
 * scenario, what stays resident from the warm-up and earlier repetitions of the same scenario is
 * legitimately part of the steady state being measured.
 */
export function canMeasureMemory(): boolean {
  return fs.existsSync('/proc/self/status') && fs.existsSync('/proc/self/clear_refs');
}

/** Peak resident set size in bytes since start or the last reset, or undefined if unreadable. */
export function peakRss(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** Resident set size now (VmRSS), in bytes, or undefined if unreadable. */
export function currentRss(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

export function resetPeakRss(pid: number): void {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Without clear_refs the peak is the process's lifetime peak; still an upper bound.
  }
}

/**
 * CPU time (user + system) the process has used so far, in seconds, from /proc/PID/stat. The
 * difference across a repetition says how much of the 2 cores the server itself burnt, which the
 * wall time alone hides when the client and the sink compete for the same cores.
 */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields[11]);
    const system = Number(fields[12]);
    // USER_HZ is 100 on every Linux that Node supports.
    return Number.isFinite(user) && Number.isFinite(system) ? (user + system) / 100 : undefined;
  } catch {
    return undefined;
  }
}
