/**
 * Which sinks an alert notifies (`alerts.routes`, `alerts.sinks`). Without routes every alert goes
 * to every sink. With routes, they are tried in order: a route whose `match` fits the alert (every
 * field given equals the alert's kind, severity, tenant or project) sends it to its sinks and, unless
 * it says `continue: true`, ends the search. An alert no route matches notifies no sink; it is
 * still listed by the API.
 */
import { sinkName, type AlertsConfig } from '../config/index.js';
import type { AlertKind, AlertScope, Severity } from './types.js';

/** A sink an alert goes to and the route that chose it (-1: no routes configured). */
export interface RouteTarget {
  sink: string;
  route: number;
}

export type RoutingConfig = Pick<AlertsConfig, 'sinks' | 'routes'>;

export interface Routable {
  kind: AlertKind;
  severity: Severity;
  scope: AlertScope;
}

export function routeAlert(config: RoutingConfig, alert: Routable): RouteTarget[] {
  if (config.routes.length === 0) return config.sinks.map((sink, i) => ({ sink: sinkName(sink, i), route: -1 }));
  const targets: RouteTarget[] = [];
  const seen = new Set<string>();
  for (const [index, route] of config.routes.entries()) {
    if (!matches(route.match, alert)) continue;
    for (const sink of route.sinks) {
      // A sink reached by two routes hears the change once, grouped with the first route's.
      if (seen.has(sink)) continue;
      seen.add(sink);
      targets.push({ sink, route: index });
    }
    if (!route.continue) break;
  }
  return targets;
}

function matches(match: AlertsConfig['routes'][number]['match'], alert: Routable): boolean {
  if (match.kind !== undefined && match.kind !== alert.kind) return false;
  if (match.severity !== undefined && match.severity !== alert.severity) return false;
  if (match.tenant !== undefined && match.tenant !== alert.scope.tenant) return false;
  if (match.project !== undefined && match.project !== alert.scope.project) return false;
  return true;
}
