// The machine the figures were measured on.
import { readFileSync } from "node:fs";
import os from "node:os";

export function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown",
    cores: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    load: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
