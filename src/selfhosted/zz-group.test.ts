import { test } from 'vitest';
import { calibrate } from './calibration.js';
import { CALIBRATION_POINTS } from './catalog/index.js';
import { DEFAULT_EFFICIENCY } from './defaults.js';
test('group', () => {
  const s = calibrate(CALIBRATION_POINTS);
  const groups = new Map<string, number[]>();
  for (const r of s.results) {
    const parts = r.point.id.split('/');
    const key = `${parts[0]}/${parts[1]}/${r.point.model}/${r.point.precision}`;
    groups.set(key, [...(groups.get(key) ?? []), r.error]);
  }
  for (const [k, errs] of groups) {
    const bad = errs.filter((e) => Math.abs(e) > 0.25).length;
    console.log(`${k.padEnd(50)} n=${errs.length} bad=${bad} errs=${errs.map((e) => (e * 100).toFixed(0)).join(',')}`);
  }
  console.log('share', s.share.toFixed(3), 'median', s.medianAbsError.toFixed(3));
});
