import { arch, availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { fmt } from './table.js';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  os: string;
  date: string;
}

/** Where the figures were measured: a figure means something only beside this. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: availableParallelism(),
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    date: new Date().toISOString(),
  };
}

/** The machine's load average over the last minute. */
export function loadAverage(): number {
  return loadavg()[0]!;
}

/**
 * `load average X at start, Y at end`, for a suite's table title: others' load on a shared
 * machine moves every rate, and each table of rates says how loaded the machine was (transport,
 * balancer, sim, failover and scale did not: found by an audit, session 60).
 */
export function loadNote(atStart: number): string {
  return `load average ${fmt(atStart, 1)} at start, ${fmt(loadAverage(), 1)} at end`;
}
