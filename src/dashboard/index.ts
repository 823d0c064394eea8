/**
 * The operator's dashboard: `createDashboard` and its types.
 */
export { createDashboard, DASHBOARD_CSP, DEFAULT_DASHBOARD_TITLE } from './handler.js';
export type { DashboardAuth, DashboardHandler, DashboardOptions, DashboardScheduler } from './types.js';
