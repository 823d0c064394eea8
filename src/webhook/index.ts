/**
 * HTTP ingress of the scheduler: `createWebhookHandler` and what its callers and clients need.
 */
export { createWebhookHandler } from './handler.js';
export { signHmac, SIGNATURE_HEADER, DEFAULT_HMAC_TOLERANCE_SEC, type HmacSignInput } from '../http/hmac.js';
export { DEFAULT_MAX_BODY_BYTES } from '../http/body.js';
export { DEFAULT_CLOCK_TOLERANCE_SEC, DEFAULT_SCOPES } from '../http/jwt.js';
export type {
  WebhookAuth,
  WebhookErrorBody,
  WebhookErrorCode,
  WebhookHandler,
  WebhookHealthReport,
  WebhookHmacAuth,
  WebhookJwkSet,
  WebhookJwksOptions,
  WebhookJwtAlgorithm,
  WebhookJwtAuth,
  WebhookLogger,
  WebhookOptions,
  WebhookScheduler,
  WebhookScopes,
} from '../http/types.js';
