/**
 * `@intellibrowse/scheduler/http`: the HTTP surfaces over a scheduler, each a `node:http` request
 * listener that also fits Express and Fastify: the webhook ingress (`createWebhookHandler`), the
 * management JSON API (`createManagementApi`) and the operator's dashboard (`createDashboard`).
 */
export * from '../webhook/index.js';
export * from '../management/index.js';
export * from '../dashboard/index.js';
