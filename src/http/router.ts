import type { IncomingMessage, ServerResponse } from 'node:http';
import { PertokenError } from '../errors.js';

/** A typed slot in a request's context, set by a middleware and read by the handlers after it. */
export class ContextKey<T> {
  declare readonly __type: T;
  constructor(readonly name: string) {}
}

/** What middleware hands on to the handlers of one request (Hono's `c.set` / `c.get`). */
export class ContextVars {
  #values: Map<ContextKey<unknown>, unknown> | null = null;

  set<T>(key: ContextKey<T>, value: T): void {
    (this.#values ??= new Map()).set(key, value);
  }

  /** The value a middleware set; a handler reading a key nothing set is a wiring bug. */
  get<T>(key: ContextKey<T>): T {
    if (this.#values === null || !this.#values.has(key)) {
      throw new PertokenError('internal', `${key.name} was not set: the route lacks the middleware that sets it`);
    }
    return this.#values.get(key) as T;
  }
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  vars: ContextVars;
}

export type RouteHandler = (ctx: RequestContext) => Promise<void> | void;
/** Runs before a route's handler; calls `next()` to go on, or throws to refuse. */
export type Middleware = (ctx: RequestContext, next: () => Promise<void>) => Promise<void>;

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  handler: RouteHandler;
  /** The handler wrapped in the middleware whose prefix covers the route; built on first match. */
  composed: RouteHandler | null;
}

interface Use {
  prefix: string[];
  middleware: Middleware;
}

/**
 * A small exact-segment router: `/api/v1/events/:id` style patterns, no regexes. Unknown paths
 * are 404 and known paths with another method are 405, both OpenAI-shaped.
 *
 * Middleware is attached to a path prefix (`use('/api/v1', guard)`), not to each route: a route
 * registered under the prefix later, by any module, runs behind it all the same.
 */
export class Router {
  readonly #routes: Route[] = [];
  readonly #uses: Use[] = [];

  on(method: string, pattern: string, handler: RouteHandler): this {
    this.#routes.push({ method, pattern, segments: split(pattern), handler, composed: null });
    return this;
  }

  /** Middleware for every route whose pattern starts with `prefix` (whole segments), outermost first. */
  use(prefix: string, middleware: Middleware): this {
    this.#uses.push({ prefix: split(prefix), middleware });
    for (const route of this.#routes) route.composed = null;
    return this;
  }

  /** Every registered route, in registration order (for tests that walk the whole surface). */
  routes(): ReadonlyArray<{ method: string; pattern: string }> {
    return this.#routes.map((r) => ({ method: r.method, pattern: r.pattern }));
  }

  match(method: string, pathname: string): { handler: RouteHandler; params: Record<string, string> } {
    const parts = split(pathname);
    let pathKnown = false;
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method) return { handler: (route.composed ??= this.#compose(route)), params };
      pathKnown = true;
    }
    if (pathKnown) throw new PertokenError('method_not_allowed', `method ${method} is not allowed on ${pathname}`);
    throw new PertokenError('not_found', `no route for ${method} ${pathname}`);
  }

  #compose(route: Route): RouteHandler {
    const chain = this.#uses.filter((u) => u.prefix.every((s, i) => route.segments[i] === s)).map((u) => u.middleware);
    if (chain.length === 0) return route.handler;
    return (ctx) => {
      const run = async (i: number): Promise<void> => {
        const middleware = chain[i];
        if (middleware === undefined) return route.handler(ctx);
        return middleware(ctx, () => run(i + 1));
      };
      return run(0);
    };
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
