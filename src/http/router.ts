import type { IncomingMessage, ServerResponse } from 'node:http';
import { PertokenError } from '../errors.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
}

export type RouteHandler = (ctx: RequestContext) => Promise<void> | void;

interface Route {
  method: string;
  segments: string[];
  handler: RouteHandler;
}

/**
 * A small exact-segment router: `/api/v1/events/:id` style patterns, no regexes. Unknown paths
 * are 404 and known paths with another method are 405, both OpenAI-shaped.
 */
export class Router {
  readonly #routes: Route[] = [];

  on(method: string, pattern: string, handler: RouteHandler): this {
    this.#routes.push({ method, segments: split(pattern), handler });
    return this;
  }

  match(method: string, pathname: string): { handler: RouteHandler; params: Record<string, string> } {
    const parts = split(pathname);
    let pathKnown = false;
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method) return { handler: route.handler, params };
      pathKnown = true;
    }
    if (pathKnown) throw new PertokenError('method_not_allowed', `method ${method} is not allowed on ${pathname}`);
    throw new PertokenError('not_found', `no route for ${method} ${pathname}`);
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i] as string;
    const got = parts[i] as string;
    if (want.startsWith(':')) {
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        return null;
      }
    } else if (want !== got) {
      return null;
    }
  }
  return params;
}
