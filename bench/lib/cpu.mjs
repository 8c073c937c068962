// CPU time of processes (user + system), from /proc: to say where a phase's CPU went.
import fs from "node:fs";

const TICK_MS = 10; // USER_HZ is 100 on Linux

export function cpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
  } catch {
    return 0;
  }
}
