export { registerApiRoutes, type ApiDeps } from './routes.js';
