import { escapeHtml } from './http-util.js';
import { describeScope, isBasicScope } from './scopes.js';

const STYLE = `
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #202124; }
  h1 { font-size: 1.5rem; font-weight: 400; }
  fieldset { border: 1px solid #dadce0; border-radius: 8px; padding: 1rem; }
  li { list-style: none; margin: .5rem 0; }
  .actions { display: flex; gap: 1rem; justify-content: flex-end; margin-top: 1.5rem; }
  button { font-size: 1rem; padding: .5rem 1.5rem; border-radius: 4px; border: 1px solid #dadce0; background: #fff; }
  button[value=approve] { background: #1a73e8; color: #fff; border-color: #1a73e8; }
  button:focus-visible { outline: 3px solid #185abc; outline-offset: 2px; }
  code { word-break: break-all; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body>
</html>
`;
}

export interface ConsentPageInput {
  requestId: string;
  clientId: string;
  userEmail: string;
  scopes: readonly string[];
}

/** The consent screen; every scope is a labelled checkbox so tests (and people) can untick some. */
export function consentPage(input: ConsentPageInput): string {
  const items = input.scopes
    .map((scope, i) => {
      const id = `scope-${i}`;
      const locked = isBasicScope(scope);
      return `<li><input type="checkbox" id="${id}" name="scope" value="${escapeHtml(scope)}" checked${locked ? ' disabled' : ''}>
  <label for="${id}">${escapeHtml(describeScope(scope))} <small><code>${escapeHtml(scope)}</code></small></label>${
    locked ? `<input type="hidden" name="scope" value="${escapeHtml(scope)}">` : ''
  }</li>`;
    })
    .join('\n');
  return page(
    'Sign in - Google Accounts (workspace simulator)',
    `<h1 id="consent-title">workspace-sync wants to access your Google Account</h1>
<p>Signed in as <strong>${escapeHtml(input.userEmail)}</strong> &middot; client <code>${escapeHtml(input.clientId)}</code></p>
<form method="post" action="/o/oauth2/v2/auth/decision" aria-labelledby="consent-title">
<input type="hidden" name="request_id" value="${escapeHtml(input.requestId)}">
<fieldset><legend>This will allow the app to:</legend><ul>
${items}
</ul></fieldset>
<div class="actions">
<button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="approve">Allow</button>
</div>
</form>`,
  );
}

/** Google renders authorization errors it cannot safely redirect as an HTML page ("Error 400: ..."). */
export function oauthErrorPage(status: number, error: string, description: string): string {
  return page(
    `Error ${status}: ${error}`,
    `<h1>Access blocked: this request is invalid</h1>
<p role="alert"><strong>Error ${status}: ${escapeHtml(error)}</strong></p>
<p>${escapeHtml(description)}</p>`,
  );
}
