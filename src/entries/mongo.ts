/**
 * `@intellibrowse/scheduler/mongo`: the MongoDB backend. `mongodb` is an optional peer dependency:
 * install it next to the scheduler to use this entry. The store classes share the root entry's
 * classes at runtime (one copy of `SchedulerError` and the engine: see tsup.config.ts).
 */
export * from '../stores/mongo/index.js';
