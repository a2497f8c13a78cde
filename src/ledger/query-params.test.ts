import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { checkQueryParams, FILTERS, parseFilters } from './query-params.js';

function refusal(query: string, allowed: readonly string[]): { param: string | null; message: string } | null {
  try {
    checkQueryParams(new URLSearchParams(query), allowed);
    return null;
  } catch (err) {
    if (!(err instanceof PertokenError)) throw err;
    expect(err.status).toBe(400);
    return { param: err.param, message: err.message };
  }
}

const COSTS = ['from', 'to', 'group_by', FILTERS];

describe('checkQueryParams', () => {
  it('passes the declared names and any filter[KEY] where the route filters', () => {
    expect(refusal('from=2026-11-01&to=2026-12-01&group_by=tenant&filter[tenant]=a&filter[model]=b', COSTS)).toBe(null);
    expect(refusal('', [])).toBe(null);
  });

  it('names the first unknown parameter and what the route takes', () => {
    expect(refusal('from=2026-11-01&colour=red', COSTS)).toEqual({
      param: 'colour',
      message: 'unknown parameter "colour"; this route takes from, to, group_by, filter[KEY]',
    });
    expect(refusal('x=1', [])).toEqual({
      param: 'x',
      message: 'unknown parameter "x"; this route takes no parameters',
    });
    expect(refusal('filter[tenant]=a', ['from', 'to'])?.param).toBe('filter[tenant]');
  });

  it('points a dimension given bare (or dotted) at filter[KEY], with the value sent', () => {
    expect(refusal('tenant=acme', COSTS)?.message).toBe('unknown parameter "tenant"; filter with filter[tenant]=acme');
    expect(refusal('Requested-Model=gpt-4o', COSTS)?.message).toBe(
      'unknown parameter "Requested-Model"; filter with filter[requested_model]=gpt-4o',
    );
    expect(refusal('filter.tenant=acme', COSTS)?.message).toContain('filter with filter[tenant]=acme');
    expect(refusal('tenant=', COSTS)?.message).toContain('filter with filter[tenant]=VALUE');
    // A route without filters has no filter to point at.
    expect(refusal('tenant=acme', ['from'])?.message).toBe('unknown parameter "tenant"; this route takes from');
  });

  it('suggests the right spelling for near misses', () => {
    for (const [name, want] of [
      ['group-by', 'group_by'],
      ['groupBy', 'group_by'],
      ['GROUP_BY', 'group_by'],
      ['groupby', 'group_by'],
      ['gruop_by', 'group_by'],
      ['form', 'from'],
      ['To', 'to'],
    ] as const) {
      expect(refusal(`${name}=x`, COSTS)?.message, name).toContain(`did you mean "${want}"?`);
    }
    expect(refusal('thershold_pct=1', ['from', 'to', 'threshold_pct'])?.message).toContain(
      'did you mean "threshold_pct"?',
    );
    expect(refusal('zz=1', COSTS)?.message).not.toContain('did you mean');
    expect(refusal('limitless=1', ['limit'])?.message).not.toContain('did you mean');
  });
});

describe('parseFilters', () => {
  it('lists the dimensions a filter may name when it refuses one', () => {
    expect(() => parseFilters(new URLSearchParams('filter[day]=2026-11-01'))).toThrow(
      'unknown filter "day"; use filter[KEY] with tenant, project, model, requested_model, provider, feature, user, key',
    );
  });
});
