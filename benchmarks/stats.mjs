// Percentiles, and how busy the whole machine was (to tell our load from other processes').
import { readFileSync } from 'node:fs';

export function percentiles(samples) {
  if (samples.length === 0) return null;
  const sorted = Float64Array.from(samples).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1], mean };
}

const USER_HZ = 100;

/**
 * CPU time all cores spent running processes (user, nice, system) or stolen by the hypervisor,
 * since boot, in microseconds (Linux /proc/stat; 0 elsewhere). Interrupt and softirq time are left
 * out: loopback TCP is processed there, so they mostly measure our own traffic.
 */
export function machineBusyMicros() {
  try {
    const [, user, nice, system, , , , , steal] = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .map(Number);
    return ((user + nice + system + steal) * 1e6) / USER_HZ;
  } catch {
    return 0;
  }
}
