import { describe, expect, it } from 'vitest';
import { presentCosts } from './present.js';
import type { CostRow } from './types.js';

const row = (keys: CostRow['keys'], over: Partial<CostRow>): CostRow => ({
  keys,
  requests: 0,
  tokens: {},
  cost_nano: 0n,
  unpriced_requests: 0,
  estimated_requests: 0,
  refused_requests: 0,
  adjustments_nano: 0n,
  net_nano: 0n,
  ...over,
});

describe('unit costs of a cost row', () => {
  it('are the net cost per 1M tokens, per request and per output token, half-even, null without the unit', () => {
    const query = {
      from: new Date('2026-11-01'),
      to: new Date('2026-11-02'),
      groupBy: ['tenant' as const],
      filter: {},
    };
    const json = presentCosts(query, [
      // $2.50 list, -$0.50 credited: $2.00 net over 3 requests, 1,500 tokens of which 500 output.
      row(
        { tenant: 'acme' },
        {
          requests: 3,
          tokens: { input: 900, cache_read: 100, output: 400, reasoning: 100, requests: 3 },
          cost_nano: 2_500_000_000n,
          adjustments_nano: -500_000_000n,
          net_nano: 2_000_000_000n,
        },
      ),
      // Only refused calls: nothing to divide by.
      row({ tenant: 'blocked' }, { refused_requests: 4 }),
    ]);
    expect(json.rows[0]).toMatchObject({
      cost_usd: '2.000000000',
      cost_per_1m_tokens_usd: '1333.333333333',
      cost_per_request_usd: '0.666666667',
      cost_per_output_token_usd: '0.004000000',
    });
    expect(json.rows[1]).toMatchObject({
      cost_per_1m_tokens_usd: null,
      cost_per_request_usd: null,
      cost_per_output_token_usd: null,
    });
    expect(json.totals).toMatchObject({ cost_per_request_usd: '0.666666667', refused_requests: 4 });
  });
});
