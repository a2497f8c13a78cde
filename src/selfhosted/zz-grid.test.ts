import { test } from 'vitest';
import { calibrate } from './calibration.js';
import { CALIBRATION_POINTS } from './catalog/index.js';
import { DEFAULT_EFFICIENCY } from './defaults.js';
test('grid', () => {
  const rows: string[] = [];
  for (const mem of [0.8, 0.85, 0.9])
      for (const c8 of [0.55, 0.6, 0.65, 0.7])
        for (const c16r of [1.1, 1.2, 1.3])
        for (const c4r of [0.6])
          for (const comm of [0.5])
            for (const step_overhead_ms of [1, 2, 3, 4, 5])
              for (const request_overhead_us of [5, 10, 15]) {
              const c16 = c8 * c16r, c4 = c8 * c4r;
              const s = calibrate(CALIBRATION_POINTS, (p) => ({ ...DEFAULT_EFFICIENCY, mem, comm, step_overhead_ms, request_overhead_us, compute: (p.precision === 'fp16' ? c16 : p.precision === 'fp4' ? c4 : c8) }));
              rows.push(`${s.share.toFixed(3)} med=${s.medianAbsError.toFixed(3)} mem=${mem} c16=${c16.toFixed(2)} c8=${c8} c4=${c4.toFixed(2)} comm=${comm} ovh=${step_overhead_ms} req=${request_overhead_us}`);
            }
  rows.sort().reverse();
  console.log(`n=${CALIBRATION_POINTS.length}\n` + rows.slice(0, 12).join('\n'));
});
