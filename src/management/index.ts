/**
 * Management API: `createManagementApi` and what its callers and clients need.
 */
export { createManagementApi, DEFAULT_MANAGEMENT_SCOPES } from './handler.js';
export { signManagementRequest, type ManagementSignInput } from './signing.js';
export { OPENAPI_DOCUMENT } from './openapi.js';
export { MAX_TIMELINE_ITEMS, type Timeline } from './timeline.js';
export type {
  DstMark,
  FirePreview,
  ManagementApi,
  ManagementApiOptions,
  ManagementErrorBody,
  ManagementErrorCode,
  ManagementScopes,
  TimelineSlot,
  TimelineStatus,
} from './types.js';
