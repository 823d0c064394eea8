/**
 * Schedule computation: validation of schedules, windows and retry policies, and pure next-slot
 * arithmetic (no clock reads: time is always passed in).
 */
export { parseDuration } from './duration.js';
export { assertTimeZone } from './timezone.js';
export { compileCron, nextCronSlot, type CompiledCron } from './cron.js';
export { normalizeWindow, isInWindow } from './window.js';
export { normalizeSchedule, assertId, parseDate, MIN_EVERY_MS } from './normalize.js';
export { firstSlot, nextSlotAfter, slotsBetween, nextFireTimes, previewSlots, DEFAULT_PREVIEW_HORIZON_MS, type SlotBounds } from './next.js';
export { backoffDelay, normalizeRetry, slotJitter, DEFAULT_BACKOFF, MAX_BACKOFF_DELAY_MS } from './jitter.js';
