/**
 * Connection strings made safe for messages: the password and secret-looking query values are
 * replaced by `***`, whatever characters they contain.
 */

/** Query parameters whose values are secrets (matched on the name, case-insensitive). */
const SECRET_PARAM = /pass|secret|token|key|credential|auth/i;

/**
 * `uri` with its password and secret query values replaced by `***`. Parsed by position, not by a
 * pattern of allowed characters: everything up to the last `@` is the user information (a
 * password may hold an unencoded `/` or `@`), so a mistyped URI is over-redacted, never under.
 */
export function redactUri(uri: string): string {
  const schemeEnd = uri.indexOf('://');
  if (schemeEnd < 0) return '***';
  const scheme = uri.slice(0, schemeEnd + 3);
  let rest = uri.slice(schemeEnd + 3);
  let user = '';
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const info = rest.slice(0, at);
    const colon = info.indexOf(':');
    const name = colon < 0 ? info : info.slice(0, colon);
    // A name that holds what only a host part or a password would is not shown either.
    user = `${/[/?#@]/.test(name) ? '***' : name}${colon < 0 ? '' : ':***'}@`;
    rest = rest.slice(at + 1);
  }
  const q = rest.indexOf('?');
  if (q < 0) return `${scheme}${user}${rest}`;
  const query = rest
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        return `${pair.slice(0, eq)}=***`;
      }
      return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=***` : pair;
    })
    .join('&');
  return `${scheme}${user}${rest.slice(0, q)}?${query}`;
}
