/**
 * Sign-in for `{ jwt }` dashboards: the form that takes a bearer token (kept in this tab's
 * `sessionStorage` only, checked before it is kept in use), sign-out, and the way back to the form
 * whenever the API refuses the token.
 */
import { ApiError, api, forgetToken } from './api.js';
import { TOKEN_KEY, on, state } from './context.js';
import { $, input, toast } from './dom.js';
import { setLive, stopStream } from './live.js';
import { showView } from './router.js';

/** Stop everything and show the sign-in form, with why the last token was refused, if it was. */
export function showLogin(message: string | null): void {
  stopStream();
  state.started = false;
  setLive('idle', 'Signed out');
  $('health').hidden = true;
  showView('login');
  const error = $('login-error');
  error.hidden = !message;
  error.textContent = message ? `Refused: ${message}` : '';
  $('sign-out').hidden = true;
  input('token-input').focus();
}

/** Wire the form and the sign-out button; `start` runs once a token is accepted. */
export function initAuth(start: () => void): void {
  on('unauthorized', showLogin);
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const field = $<HTMLTextAreaElement>('token-input');
    const value = field.value.trim().replace(/^Bearer\s+/i, '');
    if (!value) return;
    try { sessionStorage.setItem(TOKEN_KEY, value); } catch { toast('This browser refuses session storage', 'error'); return; }
    field.value = '';
    // Check the token before leaving the form, so a bad one is refused right here.
    api('GET', 'health').then(start, (err: unknown) => {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) forgetToken();
      showLogin(err instanceof Error ? err.message : String(err));
    });
  });
  $('sign-out').addEventListener('click', () => {
    forgetToken();
    showLogin(null);
  });
}
