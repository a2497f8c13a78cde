import { describe, expect, it } from 'vitest';
import type { AlertScope, Severity } from '../types.js';
import { leadingByTenant, type Candidate } from './leading.js';

const c = (scope: AlertScope, excess: number, size: number, severity: Severity = 'ticket'): Candidate => ({
  scope,
  excess,
  size,
  severity,
});

describe('leadingByTenant', () => {
  it('names the narrowest scope carrying the excess, with the highest severity among them', () => {
    const [found, ...rest] = leadingByTenant([
      c({ tenant: 'acme' }, 3.2, 5, 'page'),
      c({ tenant: 'acme', project: 'web' }, 3.1, 4.1),
      c({ tenant: 'acme', model: 'gpt-4o' }, 3.15, 4),
      c({ tenant: 'acme', feature: 'search' }, 3.0, 3.5),
      c({ tenant: 'acme', key: 'key-web' }, 3.1, 4.1),
    ]);
    expect(rest).toEqual([]);
    expect(found!.lead.scope).toEqual({ tenant: 'acme', feature: 'search' });
    expect(found!.severity).toBe('page');
    expect(found!.alsoSeen.map((x) => x.scope)).toEqual([
      { tenant: 'acme', model: 'gpt-4o' },
      { tenant: 'acme', project: 'web' },
      { tenant: 'acme', key: 'key-web' },
      { tenant: 'acme' },
    ]);
    expect(found!.parts).toEqual([]);
  });

  it('prefers the tenant to a dimension holding all of its traffic, and feature to an identical key', () => {
    const [a] = leadingByTenant([c({ tenant: 'a', model: 'm' }, 2, 4), c({ tenant: 'a' }, 2, 4)]);
    expect(a!.lead.scope).toEqual({ tenant: 'a' });
    const [b] = leadingByTenant([c({ tenant: 'b', key: 'k' }, 2, 3), c({ tenant: 'b', feature: 'f' }, 2, 3)]);
    expect(b!.lead.scope).toEqual({ tenant: 'b', feature: 'f' });
  });

  it('names the tenant, listing the parts, when no narrower scope explains most of the excess', () => {
    const [found] = leadingByTenant([
      c({ tenant: 'acme' }, 4, 10),
      c({ tenant: 'acme', feature: 'a' }, 2.2, 3),
      c({ tenant: 'acme', feature: 'b' }, 1.8, 3),
    ]);
    expect(found!.lead.scope).toEqual({ tenant: 'acme' });
    expect(found!.parts.map((x) => x.scope)).toEqual([
      { tenant: 'acme', feature: 'a' },
      { tenant: 'acme', feature: 'b' },
    ]);
  });

  it('reports each tenant once, in a stable order', () => {
    const found = leadingByTenant([
      c({ tenant: 'b', feature: 'x' }, 1, 1),
      c({ tenant: 'a' }, 1, 1),
      c({ tenant: 'b' }, 1, 2),
    ]);
    expect(found.map((f) => f.lead.scope)).toEqual([{ tenant: 'a' }, { tenant: 'b', feature: 'x' }]);
  });
});
