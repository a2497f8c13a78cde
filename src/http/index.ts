export { readBody, parseJsonBody } from './body.js';
export { sendJson, sendText, sendError, writeChunk } from './respond.js';
export { ContextKey, ContextVars, Router, type Middleware, type RequestContext, type RouteHandler } from './router.js';
