import type { RouteConfig, UpstreamConfig } from '../config/index.js';
import { PertokenError } from '../errors.js';
import type { WireKind } from '../providers/index.js';

/** Shell-style glob (`*`, `?`) compiled once; model names are matched case-sensitively. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

export interface ModelRouter {
  resolve(model: string, wire: WireKind): UpstreamConfig;
  /** The upstream that answers model listings for a wire. */
  defaultFor(wire: WireKind): UpstreamConfig;
}

/**
 * First matching route whose upstream speaks the request's wire wins: a `claude-*` route can
 * never send an OpenAI-shaped body to Anthropic. Without routes, the first upstream of the wire.
 */
export function createModelRouter(upstreams: readonly UpstreamConfig[], routes: readonly RouteConfig[]): ModelRouter {
  const byName = new Map(upstreams.map((u) => [u.name, u]));
  const compiled = routes.map((r) => ({ pattern: globToRegExp(r.match), upstream: byName.get(r.upstream) as UpstreamConfig }));
  const defaultFor = (wire: WireKind): UpstreamConfig => {
    const first = upstreams.find((u) => u.kind === wire);
    if (!first) throw new PertokenError('no_route', `no ${wire} upstream is configured`);
    return first;
  };
  return {
    resolve(model, wire) {
      for (const route of compiled) {
        if (route.upstream.kind === wire && route.pattern.test(model)) return route.upstream;
      }
      if (compiled.length === 0) return defaultFor(wire);
      throw new PertokenError('no_route', `no ${wire} route matches model "${model}"`, { param: 'model' });
    },
    defaultFor,
  };
}
