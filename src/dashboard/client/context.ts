/**
 * What the dashboard's modules share: the page's configuration (from the `data-*` attributes of
 * `<body>`, since the Content-Security-Policy allows no inline script), the app's state, and a
 * small typed event bus. Views tell each other about changed records through the bus rather than
 * by importing each other, so the modules form a tree (the architecture test forbids cycles).
 */
import type { JobSummary, TriggerSummary } from '../../management/types.js';
import { browserZone } from './words.js';

/** Write actions are not rendered at all in read-only mode. */
export const READ_ONLY = document.body.getAttribute('data-read-only') === 'true';
/** `jwt`: the page asks for a bearer token and sends it with every request. */
export const AUTH = document.body.getAttribute('data-auth');
/** The `sessionStorage` key of the token. */
export const TOKEN_KEY = 'intellibrowse-scheduler.token';
/** The browser's own zone: where a job's times are shown, and a trigger's without a zone. */
export const BROWSER_ZONE = browserZone();

/** The page's views; each is a `<section id="view-NAME">` of the shell. */
export type ViewName = 'login' | 'triggers' | 'trigger' | 'jobs' | 'job' | 'stats';
/** Every view, in the order of the page. */
export const VIEWS: readonly ViewName[] = ['login', 'triggers', 'trigger', 'jobs', 'job', 'stats'];

/** The jobs view's filters, as in its URL (`#/jobs?status=failed&...`). */
export interface JobFilter {
  status?: string;
  triggerId?: string;
  from?: string;
  to?: string;
}

/** The state of the app, one object that every view reads. */
export const state = {
  view: null as ViewName | null,
  /** Every trigger seen, by id: names for the jobs view and the charts. */
  triggers: new Map<string, TriggerSummary>(),
  triggerCursor: null as string | null,
  /** The jobs listed in the jobs view, by id. */
  jobs: new Map<string, JobSummary>(),
  jobFilter: {} as JobFilter,
  jobCursor: null as string | null,
  /** The job or trigger of the detail view shown, if one is. */
  jobId: null as string | null,
  triggerId: null as string | null,
  /** Signed in (or no sign-in needed) and loading. */
  started: false,
};

/** What the bus carries. */
export interface AppEvents {
  /** A job changed: reported by the event stream, or answered to an action of this page. */
  job: [job: JobSummary, origin: 'stream' | 'action'];
  /** A trigger changed (already in `state.triggers`). */
  trigger: [trigger: TriggerSummary];
  /** A trigger was removed. */
  'trigger-removed': [triggerId: string];
  /** The API refused the token: sign in again (`message` says why, if anything does). */
  unauthorized: [message: string | null];
}

type Listeners = { [K in keyof AppEvents]: ((...args: AppEvents[K]) => void)[] };
const listeners: Listeners = { job: [], trigger: [], 'trigger-removed': [], unauthorized: [] };

/** Listen to `name` for the life of the page. */
export function on<K extends keyof AppEvents>(name: K, listener: (...args: AppEvents[K]) => void): void {
  listeners[name].push(listener);
}

/** Tell every listener of `name`, in the order they started listening. */
export function emit<K extends keyof AppEvents>(name: K, ...args: AppEvents[K]): void {
  for (const listener of listeners[name]) listener(...args);
}

/**
 * Keep `trigger` in `state.triggers` and tell the views. Stream frames are summaries: a payload
 * known from the trigger's detail is kept.
 */
export function triggerChanged(trigger: TriggerSummary): void {
  const known = state.triggers.get(trigger.id);
  const kept = known && !('payload' in trigger) && 'payload' in known ? { ...trigger, payload: known.payload } : trigger;
  state.triggers.set(kept.id, kept);
  emit('trigger', kept);
}

/** A trigger's name, or its id when it is not known (yet). */
export function triggerName(triggerId: string): string {
  return state.triggers.get(triggerId)?.name ?? triggerId;
}

const refreshTimers = new Map<string, number>();

/** Run `load` once, 800 ms from the first of a burst of calls under `key`: a burst of events reloads once. */
export function scheduleRefresh(key: string, load: () => unknown): void {
  if (refreshTimers.has(key)) return;
  refreshTimers.set(key, window.setTimeout(() => { refreshTimers.delete(key); load(); }, 800));
}
