export { readBody, parseJsonBody } from './body.js';
export { sendJson, sendText, sendError, writeChunk } from './respond.js';
export { Router, type RequestContext, type RouteHandler } from './router.js';
