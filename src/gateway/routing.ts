import type { RouteConfig, RoutingConfig, UpstreamConfig } from '../config/index.js';
import { PertokenError } from '../errors.js';
import { globToRegExp } from '../glob.js';
import type { WireKind } from '../providers/index.js';

/** One model to try and the upstream that serves it. */
export interface PlanStep {
  model: string;
  upstream: UpstreamConfig;
}

export interface ModelRouter {
  resolve(model: string, wire: WireKind): UpstreamConfig;
  /**
   * The models to try for a request, in order: the model (an alias resolved to its target), then
   * its fallbacks that an upstream of this wire serves. Throws no_route when the first has none.
   */
  plan(model: string, wire: WireKind): PlanStep[];
  /** The upstream that answers model listings for a wire. */
  defaultFor(wire: WireKind): UpstreamConfig;
}

/**
 * First matching route whose upstream speaks the request's wire wins: a `claude-*` route can
 * never send an OpenAI-shaped body to Anthropic. Without routes, the first upstream of the wire.
 */
export function createModelRouter(
  upstreams: readonly UpstreamConfig[],
  routes: readonly RouteConfig[],
  routing?: Pick<RoutingConfig, 'aliases' | 'fallbacks'>,
): ModelRouter {
  const byName = new Map(upstreams.map((u) => [u.name, u]));
  const compiled = routes.map((r) => ({
    pattern: globToRegExp(r.match),
    upstream: byName.get(r.upstream) as UpstreamConfig,
  }));
  const defaultFor = (wire: WireKind): UpstreamConfig => {
    const first = upstreams.find((u) => u.kind === wire);
    if (!first) throw new PertokenError('no_route', `no ${wire} upstream is configured`);
    return first;
  };
  const aliases = routing?.aliases ?? {};
  const fallbacks = routing?.fallbacks ?? {};
  const resolve = (model: string, wire: WireKind): UpstreamConfig => {
    for (const route of compiled) {
      if (route.upstream.kind === wire && route.pattern.test(model)) return route.upstream;
    }
    if (compiled.length === 0) return defaultFor(wire);
    throw new PertokenError('no_route', `no ${wire} route matches model "${model}"`, { param: 'model' });
  };
  return {
    resolve,
    plan(model, wire) {
      const target = aliases[model] ?? model;
      const steps: PlanStep[] = [{ model: target, upstream: resolve(target, wire) }];
      for (const next of fallbacks[target] ?? fallbacks[model] ?? []) {
        const fallback = aliases[next] ?? next;
        if (steps.some((s) => s.model === fallback)) continue;
        try {
          steps.push({ model: fallback, upstream: resolve(fallback, wire) });
        } catch {
          // A fallback only another wire serves cannot take this request's body: skipped.
        }
      }
      return steps;
    },
    defaultFor,
  };
}
