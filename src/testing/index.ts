/**
 * `@intellibrowse/scheduler/testing`: the test kit. The backend contract suite, for a third-party
 * store to prove itself against (`runBackendContract`), with its record fixtures; the time-travel
 * harness (`TimeTravel`), a scheduler on a manual clock that a test moves through DST nights and
 * months; and the waiting helpers for schedulers on a manual clock.
 *
 * Every runtime value the kit uses comes from `@intellibrowse/scheduler` itself (external in the
 * built entry), so a `Scheduler`, a `ManualClock` or a `SchedulerError` the kit makes is the same
 * class as the one the application imports: `instanceof` holds across the two entries.
 */
export { runBackendContract } from './contract/index.js';
export type { ContractRunner } from './runner.js';
export { makeJob, makeTrigger, FIXTURE_T0, fixtureAt } from './fixtures.js';
export type { BackendFactory, BackendUnderTest } from './fixtures.js';
export { advance, eventually, tick } from './wait.js';
export { TimeTravel, IdleTimeoutError } from './time-travel.js';
export type { TimeTravelOptions, RunRecord, RunOutcome } from './time-travel.js';
