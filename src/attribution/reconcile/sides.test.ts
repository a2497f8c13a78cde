import { describe, expect, it } from 'vitest';
import type { CostRow } from '../../ledger/index.js';
import { createPriceBook } from '../../pricing/index.js';
import { joinSides } from './sides.js';

describe('joinSides: refused demand', () => {
  it('a group of refused calls alone is not metered usage: no cell, no day waiting for a bill', () => {
    const refusedOnly: CostRow = {
      keys: { day: '2026-11-20', provider: 'openai', tenant: 'broke', project: null, model: 'gpt-4o-mini' },
      requests: 0,
      tokens: {},
      cost_nano: 0n,
      unpriced_requests: 0,
      estimated_requests: 0,
      refused_requests: 3,
      adjustments_nano: 0n,
      net_nano: 0n,
    };
    const result = joinSides([refusedOnly], [], createPriceBook());
    expect(result.cells).toEqual([]);
    expect([...result.notImported.keys()]).toEqual([]);
  });
});
