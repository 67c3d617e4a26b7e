/**
 * CPU seconds (user + system) a process has used so far, read from /proc: how the scale bench and
 * the split-role tests charge CPU to each role and to the servers they start. Linux only, which is
 * where they run; a process that has gone answers `undefined` (its last reading is what counts).
 */
import { readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat's times: 100 on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;

export async function processCpuSeconds(pid: number): Promise<number | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The name (field 2) may hold spaces and parentheses: count fields from its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line: 11 and 12 after the name.
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}
