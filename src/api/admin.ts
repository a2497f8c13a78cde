import type { IncomingMessage } from 'node:http';
import { PertokenError } from '../errors.js';
import { ACTOR_NAME, matchesId } from '../ids.js';
import { parseJsonBody, readBody, sendJson, type Router } from '../http/index.js';
import {
  presentBudget,
  presentKey,
  presentProject,
  presentTenant,
  type Actor,
  type Governance,
} from '../governance/index.js';
import { parseInstant, parseLimit } from '../ledger/index.js';
import { readerOf, scopeTenant } from './auth.js';
import type { ApiDeps } from './deps.js';
import { withQuery } from './query.js';

/**
 * The governance API of DESIGN §3: tenants, projects, keys and budgets under /api/v1/admin (admin
 * token), the budget status under /api/v1/budgets (admin, or a `read` key for its own tenant), and
 * the audit log. Every change is audited by the governance layer.
 */
export function registerAdminRoutes(router: Router, deps: ApiDeps): void {
  const gov = (): Governance => {
    if (!deps.governance) throw new PertokenError('not_found', 'governance is not enabled on this server');
    return deps.governance;
  };
  // The admin token was checked by the /api/v1/admin guard (routes.ts) before any handler runs.
  const admin = (req: IncomingMessage): { gov: Governance; actor: Actor; body: () => Promise<unknown> } => ({
    gov: gov(),
    actor: actorOf(req),
    body: () => readJson(req, deps.maxBodyBytes),
  });

  router.on('POST', '/api/v1/admin/tenants', async ({ req, res }) => {
    const { gov, actor, body } = admin(req);
    const saved = await gov.admin.putTenant(await body(), actor);
    sendJson(res, saved.created ? 201 : 200, presentTenant(saved.value));
  });
  router.on(
    'GET',
    '/api/v1/admin/tenants',
    withQuery([], async ({ req, res }) => {
      const { gov } = admin(req);
      sendJson(res, 200, { tenants: (await gov.tenants()).map(presentTenant) });
    }),
  );

  router.on('POST', '/api/v1/admin/projects', async ({ req, res }) => {
    const { gov, actor, body } = admin(req);
    const saved = await gov.admin.putProject(await body(), actor);
    sendJson(res, saved.created ? 201 : 200, presentProject(saved.value));
  });
  router.on(
    'GET',
    '/api/v1/admin/projects',
    withQuery(['tenant'], async ({ req, res, url }) => {
      const { gov } = admin(req);
      sendJson(res, 200, {
        projects: (await gov.projects(url.searchParams.get('tenant') ?? undefined)).map(presentProject),
      });
    }),
  );

  router.on('POST', '/api/v1/admin/keys', async ({ req, res }) => {
    const { gov, actor, body } = admin(req);
    const created = await gov.admin.createKey(await body(), actor);
    sendJson(res, 201, { ...presentKey(created.info), key: created.key });
  });
  router.on(
    'GET',
    '/api/v1/admin/keys',
    withQuery(['tenant'], async ({ req, res, url }) => {
      const { gov } = admin(req);
      sendJson(res, 200, {
        keys: (await gov.keys(url.searchParams.get('tenant') ?? undefined)).map((k) => presentKey(k, deps.now())),
      });
    }),
  );
  router.on(
    'GET',
    '/api/v1/admin/keys/:id',
    withQuery([], async ({ req, res, params }) => {
      const { gov } = admin(req);
      sendJson(res, 200, presentKey(await gov.key(params.id ?? ''), deps.now()));
    }),
  );
  router.on('POST', '/api/v1/admin/keys/:id/rotate', async ({ req, res, params }) => {
    const { gov, actor, body } = admin(req);
    const rotated = await gov.admin.rotateKey(params.id ?? '', await body(), actor);
    sendJson(res, 200, { ...presentKey(rotated.info), key: rotated.key });
  });
  router.on('DELETE', '/api/v1/admin/keys/:id', async ({ req, res, params }) => {
    const { gov, actor } = admin(req);
    sendJson(res, 200, presentKey(await gov.admin.revokeKey(params.id ?? '', actor), deps.now()));
  });

  router.on('POST', '/api/v1/admin/budgets', async ({ req, res }) => {
    const { gov, actor, body } = admin(req);
    const saved = await gov.admin.putBudget(await body(), actor);
    sendJson(res, saved.created ? 201 : 200, presentBudget(saved.value));
  });
  router.on(
    'GET',
    '/api/v1/admin/budgets',
    withQuery([], async ({ req, res }) => {
      const { gov } = admin(req);
      sendJson(res, 200, { budgets: (await gov.budgetDefinitions()).map(presentBudget) });
    }),
  );
  router.on('DELETE', '/api/v1/admin/budgets/:id', async ({ req, res, params }) => {
    const { gov, actor } = admin(req);
    sendJson(res, 200, presentBudget(await gov.admin.deleteBudget(params.id ?? '', actor)));
  });

  router.on(
    'GET',
    '/api/v1/admin/audit',
    withQuery(['from', 'to', 'target', 'target_id', 'limit'], async ({ req, res, url }) => {
      const { gov } = admin(req);
      const params = url.searchParams;
      const from = parseInstant(params.get('from'), 'from');
      const to = parseInstant(params.get('to'), 'to');
      const target = params.get('target');
      const targetId = params.get('target_id');
      const entries = await gov.auditLog({
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
        ...(target ? { target } : {}),
        ...(targetId ? { target_id: targetId } : {}),
        limit: parseLimit(params.get('limit'), 1000, 10_000),
      });
      sendJson(res, 200, { entries });
    }),
  );
  router.on(
    'GET',
    '/api/v1/admin/alerts',
    withQuery(['from', 'to', 'limit'], async ({ req, res, url }) => {
      const { gov } = admin(req);
      const from = parseInstant(url.searchParams.get('from'), 'from');
      const to = parseInstant(url.searchParams.get('to'), 'to');
      sendJson(res, 200, {
        alerts: await gov.alerts({
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
          limit: parseLimit(url.searchParams.get('limit'), 1000, 10_000),
        }),
      });
    }),
  );

  router.on(
    'GET',
    '/api/v1/budgets',
    withQuery(['tenant'], async (ctx) => {
      const tenant = scopeTenant(readerOf(ctx), ctx.url.searchParams.get('tenant'), 'tenant');
      sendJson(ctx.res, 200, { budgets: await gov().budgets(tenant) });
    }),
  );
}

/** `admin`, or `admin:<name>` when the caller says who it is (the CLI sends the OS user). */
function actorOf(req: IncomingMessage): Actor {
  const named = req.headers['x-pertoken-actor'];
  const name = matchesId(ACTOR_NAME, named) ? `admin:${named}` : 'admin';
  return { name, remote: req.socket.remoteAddress ?? null };
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const raw = await readBody(req, limit);
  return raw.length === 0 ? {} : parseJsonBody(raw);
}
