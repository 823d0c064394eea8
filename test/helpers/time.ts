/**
 * Helpers for driving schedulers on a manual clock: the kit's own (src/testing/wait.ts), under the
 * path the project's tests have always imported them from.
 */
export { advance, eventually, tick } from '../../src/testing/wait.js';
