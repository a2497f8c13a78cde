export { DASHBOARD_CSP, defaultDashboardDir, registerDashboardRoutes, type DashboardOptions } from './serve.js';
