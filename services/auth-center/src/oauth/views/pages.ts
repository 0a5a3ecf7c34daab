import { describeScope } from '../scopes.js'
import { html, page } from './html.js'

export interface LoginView {
  clientName: string
  request: string
  csrf: string
  passwordCsrf: string
  mobile?: string
  error?: string
  notice?: string
}

/** The login page: the same SMS-code and password login as POST /auth/login. */
export function loginPage (v: LoginView): string {
  return page('Sign in', html`
<h1>Sign in to continue to ${v.clientName}</h1>
${v.error !== undefined ? html`<p class="error" role="alert">${v.error}</p>` : ''}
${v.notice !== undefined ? html`<p class="notice" role="status">${v.notice}</p>` : ''}
<form method="post" action="/oauth/authorize/login" id="login">
  <input type="hidden" name="csrf" value="${v.csrf}"><input type="hidden" name="request" value="${v.request}">
  <label for="mobile">Mobile number</label>
  <input id="mobile" name="mobile" type="tel" inputmode="tel" autocomplete="tel" required value="${v.mobile ?? ''}">
  <button type="submit" class="secondary" formaction="/oauth/authorize/sms-code" formnovalidate id="send-code">Send me a code</button>
  <label for="code">Code from the SMS</label>
  <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="\\d{6}" maxlength="6">
  <button type="submit" id="sign-in">Sign in</button>
</form>
<details><summary>Sign in with a password instead</summary>
<form method="post" action="/oauth/authorize/login" id="password-login">
  <input type="hidden" name="csrf" value="${v.passwordCsrf}"><input type="hidden" name="request" value="${v.request}">
  <label for="pw-mobile">Mobile number</label>
  <input id="pw-mobile" name="mobile" type="tel" autocomplete="tel" required value="${v.mobile ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form></details>`)
}

export interface ConsentView {
  clientName: string
  clientId: string
  scopes: string[]
  request: string
  csrf: string
  logoutCsrf: string
  mobile: string
}

/** The consent page: what the client asks for; remembered per user and client until withdrawn. */
export function consentPage (v: ConsentView): string {
  return page('Allow access', html`
<h1>${v.clientName} wants to access your account</h1>
<p><small>Signed in as ${v.mobile} · client <code>${v.clientId}</code></small></p>
${v.scopes.length > 0
    ? html`<p>It asks to:</p><ul id="scopes">${v.scopes.map((s) => html`<li><strong>${s}</strong>: ${describeScope(s)}</li>`)}</ul>`
    : html`<p>It asks for no particular permission.</p>`}
<form method="post" action="/oauth/authorize/consent" id="consent">
  <input type="hidden" name="csrf" value="${v.csrf}"><input type="hidden" name="request" value="${v.request}">
  <div class="row"><button type="submit" name="decision" value="deny" class="secondary" id="deny">Deny</button>
  <button type="submit" name="decision" value="allow" id="allow">Allow</button></div>
</form>
<p><small>You can withdraw this later (DELETE /auth/consents/${v.clientId}).</small></p>
<form method="post" action="/oauth/authorize/logout" id="logout"><input type="hidden" name="csrf" value="${v.logoutCsrf}"><input type="hidden" name="request" value="${v.request}">
<button type="submit" class="secondary">Not you? Sign out</button></form>`)
}

/** Shown instead of redirecting when the client or its redirect URI cannot be trusted. */
export function errorPage (title: string, message: string): string {
  return page(title, html`<h1>${title}</h1><p class="error" role="alert">${message}</p><p><small>You can close this page.</small></p>`)
}
