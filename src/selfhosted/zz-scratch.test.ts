import { test } from 'vitest';
import { calibrate } from './calibration.js';
import { CALIBRATION_POINTS } from './catalog/index.js';
import { DEFAULT_EFFICIENCY } from './defaults.js';
test('scratch', () => {
  const eff = { ...DEFAULT_EFFICIENCY, ...(process.env.EFF ? JSON.parse(process.env.EFF) : {}) };
  const s = calibrate(CALIBRATION_POINTS, eff);
  for (const r of s.results) console.log(`${(r.error*100).toFixed(1).padStart(7)}%  ${r.predicted.toFixed(1).padStart(9)} vs ${r.point.value}  ${r.point.id} ${r.point.metric}`);
  console.log('count', s.count, 'within', s.within, 'share', s.share.toFixed(3), 'median', s.medianAbsError.toFixed(3));
});
