import { describe, expect, it } from 'vitest';
import { calibrate } from './calibration.js';
import { CALIBRATION_POINTS, findGpu, findModel, GPUS, MODELS } from './catalog/index.js';

/**
 * A correctness check on data, not a timing test: the estimator with its default efficiency
 * factors, run on every published measurement in catalog/calibration.ts, must land within ±25% on
 * at least 80% of them (docs/selfhosted.md lists the achieved numbers and the known misses).
 */
describe('calibration against published measurements', () => {
  const summary = calibrate(CALIBRATION_POINTS);

  it('is within ±25% on at least 80% of the published points', () => {
    expect(summary.count).toBe(CALIBRATION_POINTS.length);
    expect(summary.count).toBeGreaterThanOrEqual(200);
    expect(summary.share).toBeGreaterThanOrEqual(0.8);
    expect(summary.medianAbsError).toBeLessThan(0.15);
    for (const r of summary.results) expect(Number.isFinite(r.error)).toBe(true);
  });

  it('keeps the recent TensorRT-LLM Hopper tables (dense Llama) within ±25% everywhere but long-context rows', () => {
    const recent = summary.results.filter(
      (r) =>
        r.point.engine.startsWith('TensorRT-LLM (trtllm') &&
        r.point.model.startsWith('llama') &&
        r.point.gpu !== 'b200',
    );
    expect(recent.length).toBeGreaterThanOrEqual(60);
    const within = recent.filter((r) => Math.abs(r.error) <= 0.25).length;
    expect(within / recent.length).toBeGreaterThanOrEqual(0.9);
  });

  it('gives every point a source, unique id and catalog model and GPU', () => {
    const ids = new Set<string>();
    for (const p of CALIBRATION_POINTS) {
      expect(ids.has(p.id), p.id).toBe(false);
      ids.add(p.id);
      expect(p.sources.length).toBeGreaterThan(0);
      for (const s of p.sources) expect(s).toMatch(/^https:\/\//);
      expect(findModel(p.model), p.model).toBeDefined();
      expect(findGpu(p.gpu), p.gpu).toBeDefined();
      expect(p.value).toBeGreaterThan(0);
    }
  });

  it('gives every catalog GPU and model its sources', () => {
    for (const g of GPUS) {
      expect(g.sources.length, g.id).toBeGreaterThan(0);
      expect(g.hbm_gb).toBeGreaterThan(0);
      expect(g.tflops.bf16 ?? g.tflops.fp16).toBeGreaterThan(0);
    }
    for (const m of MODELS) {
      expect(m.sources.length, m.id).toBeGreaterThan(0);
      expect(m.active_params_b).toBeLessThanOrEqual(m.params_b);
    }
    const ids = [...GPUS.map((g) => g.id), ...MODELS.map((m) => m.id)];
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      'h100-sxm',
      'h100-pcie',
      'h200',
      'b200',
      'a100-40gb',
      'a100-80gb',
      'l40s',
      'l4',
      'a10g',
      'mi300x',
    ]) {
      expect(findGpu(id), id).toBeDefined();
    }
    for (const id of [
      'llama-3.1-8b',
      'llama-3.1-70b',
      'llama-3.1-405b',
      'mistral-7b',
      'mixtral-8x7b',
      'qwen2.5-7b',
      'qwen2.5-72b',
      'deepseek-v3',
    ]) {
      expect(findModel(id), id).toBeDefined();
    }
  });
});
