/**
 * Query strings: each route names the parameters it takes; anything else, a repeated parameter or
 * a malformed value is a 400 naming the parameter. Typed values are then checked by the same
 * validators the scheduler uses (so the API and the library agree on what is valid).
 */
import { InvalidArgumentError } from '../errors.js';
import { assertId, parseDate } from '../schedule/index.js';
import { pageLimit } from '../stores/cursor.js';
import { badRequest } from './errors.js';

/** The parameters of one request, read through the checks below. */
export class QueryParams {
  readonly #params: URLSearchParams;

  private constructor(params: URLSearchParams) {
    this.#params = params;
  }

  /**
   * Parse the query part of `url`, refusing parameters not in `allowed` and repeated ones.
   *
   * @throws ManagementHttpError 400 naming the parameter
   */
  static parse(url: string, allowed: readonly string[]): QueryParams {
    const q = url.indexOf('?');
    const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1).replace(/#.*$/, ''));
    const seen = new Set<string>();
    for (const name of params.keys()) {
      if (!allowed.includes(name)) {
        throw badRequest(name, allowed.length === 0 ? 'this route takes no query parameters' : `unknown parameter; use ${allowed.join(', ')}`);
      }
      if (seen.has(name)) throw badRequest(name, 'given more than once');
      seen.add(name);
    }
    return new QueryParams(params);
  }

  /** The raw value, or `undefined`; an empty value is refused. */
  string(name: string): string | undefined {
    const value = this.#params.get(name);
    if (value === null) return undefined;
    if (value === '') throw badRequest(name, 'must not be empty');
    if (value.length > 1000) throw badRequest(name, 'must be at most 1000 characters');
    return value;
  }

  /** An id (no `$`, no `.`, at most 200 characters). */
  id(name: string): string | undefined {
    const value = this.string(name);
    return value === undefined ? undefined : rethrow(() => assertId(value, name));
  }

  /** An integer from `min` to `max`. */
  integer(name: string, min: number, max: number): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value)) throw badRequest(name, `must be an integer from ${min} to ${max}`);
    const n = Number(value);
    if (n < min || n > max) throw badRequest(name, `must be an integer from ${min} to ${max}`);
    return n;
  }

  /** A page size, as the stores accept it (1 to 1000). */
  limit(name = 'limit'): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    return rethrow(() => pageLimit(n), name);
  }

  /** An instant: ISO-8601 (read as UTC without an offset) or epoch milliseconds. */
  date(name: string): Date | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    return rethrow(() => parseDate(/^-?\d+$/.test(value) ? Number(value) : value, name));
  }

  /** One of `choices`. */
  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!(choices as readonly string[]).includes(value)) throw badRequest(name, `must be one of ${choices.join(', ')}`);
    return value as T;
  }

  /** A comma-separated list of `choices` (at least one). */
  choices<T extends string>(name: string, choices: readonly T[]): T[] | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const list = value.split(',');
    for (const item of list) {
      if (!(choices as readonly string[]).includes(item)) throw badRequest(name, `must be one or more of ${choices.join(', ')}, comma-separated`);
    }
    return list as T[];
  }
}

/** Run a library validator, turning its error into a 400 on `field` (its own field when not given). */
function rethrow<T>(check: () => T, field?: string): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof InvalidArgumentError) {
      const name = field ?? err.field;
      throw badRequest(name, err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message);
    }
    throw err;
  }
}
