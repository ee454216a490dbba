// API reference: GET /api/openapi.json (generated from the routes and their zod schemas), made readable.
import { get } from './api.js';
import { append, card, h, pageHeader, table } from './dom.js';
import { loadTenant } from './shell.js';

const METHODS = ['get', 'post', 'put', 'delete'];
/** Descriptions mark code with backticks, as Markdown does: shown as <code>. */
const prose = (text) => (text ?? '').split('`').map((part, i) => (i % 2 ? h('code', null, part) : part));
const SCHEME_LABELS = {
  googleIdToken: 'Admin (Google ID token)',
  hostSignature: 'Host product (ws-hmac-v2)',
};

const who = (op) =>
  op.security?.length
    ? op.security.map((s) => Object.keys(s).map((k) => SCHEME_LABELS[k] ?? k)).join(' or ')
    : 'Public';

/** A JSON Schema, compactly: the type, or the enum, with its limits. */
function schemaText(s) {
  if (!s || typeof s !== 'object') return '';
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const limits = [
    s.format,
    s.pattern && `pattern ${s.pattern}`,
    s.minimum !== undefined && `≥ ${s.minimum}`,
    s.maximum !== undefined && `≤ ${s.maximum}`,
    s.maxLength !== undefined && `≤ ${s.maxLength} chars`,
    s.default !== undefined && `default ${JSON.stringify(s.default)}`,
  ].filter(Boolean);
  return [s.type ?? (s.anyOf || s.oneOf ? 'one of several shapes' : 'any'), ...limits].join(', ');
}

function operationDetails(method, path, op) {
  const params = op.parameters ?? [];
  const body = op.requestBody?.content?.['application/json']?.schema;
  const answers = Object.entries(op.responses ?? {}).filter(([status]) => /^[23]/.test(status));
  return h(
    'details',
    { class: 'api-op' },
    h('summary', null, h('code', null, `${method.toUpperCase()} ${path}`), ' — ', op.summary),
    op.description && h('p', { class: 'muted api-desc' }, prose(op.description)),
    params.length > 0 &&
      table(
        `Parameters of ${method.toUpperCase()} ${path}`,
        ['Name', 'In', 'Required', 'Schema'],
        params.map((p) => [h('code', null, p.name), p.in, p.required ? 'yes' : 'no', schemaText(p.schema)]),
      ),
    body &&
      h(
        'div',
        null,
        h('h4', null, op.requestBody.required ? 'Body (JSON)' : 'Body (JSON, optional)'),
        h('pre', { class: 'api-schema', tabindex: 0 }, JSON.stringify(body, null, 2)),
      ),
    answers.length > 0 &&
      h(
        'ul',
        { class: 'api-answers' },
        answers.map(([status, r]) => h('li', null, h('strong', null, status), ' ', prose(r.description))),
      ),
  );
}

export async function renderApiReference(route, el) {
  const t = route.params.t ?? '';
  const [doc] = await Promise.all([get('/api/openapi.json'), t ? loadTenant(t, true) : null]);
  const byTag = new Map();
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = ops[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push({ method, path, op });
    }
  }
  const schemes = Object.entries(doc.components?.securitySchemes ?? {});
  append(el, [
    pageHeader(
      'API reference',
      h('a', { class: 'btn', href: '/api/openapi.json', download: 'openapi.json' }, 'OpenAPI 3.1 (JSON)'),
      `${doc.info?.title ?? 'API'} ${doc.info?.version ?? ''}: every endpoint, who may call it, and what it takes.`,
    ),
    card(
      'Authentication',
      h(
        'dl',
        { class: 'api-schemes' },
        schemes.flatMap(([name, s]) => [
          h('dt', null, SCHEME_LABELS[name] ?? name),
          h('dd', null, prose(s.description)),
        ]),
      ),
    ),
    [...byTag.entries()].map(([tag, ops]) =>
      card(tag[0].toUpperCase() + tag.slice(1), [
        table(
          `${tag} endpoints`,
          ['Method', 'Path', 'What', 'Who'],
          ops.map(({ method, path, op }) => [
            h('code', null, method.toUpperCase()),
            h('code', null, path),
            op.summary,
            who(op),
          ]),
        ),
        ops.map(({ method, path, op }) => operationDetails(method, path, op)),
      ]),
    ),
  ]);
  return 'API reference';
}
