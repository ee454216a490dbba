import { invalidInput } from './errors.js';
import type { ChromeOsRecord, MobileRecord, UserRecord } from './model.js';
import { userForSearch } from './user-resource.js';
import type { Workspace } from './workspace.js';

/**
 * A subset of the Directory search grammars:
 * users  — https://developers.google.com/admin-sdk/directory/v1/guides/search-users
 * devices — https://developers.google.com/admin-sdk/directory/v1/list-query-operators
 * Clauses are separated by whitespace and AND-ed; values may be quoted with '...' or "...".
 */
export interface Clause {
  field: string | undefined;
  op: '=' | ':' | undefined;
  value: string;
  /** `field:value*` */
  prefix: boolean;
}

export function tokenize(query: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < query.length; i++) {
    const ch = query[i] as string;
    if (quote) {
      if (ch === '\\' && i + 1 < query.length) {
        current += ch + query[++i];
      } else {
        if (ch === quote) quote = undefined;
        current += ch;
      }
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      current += ch;
    } else if (/\s/.test(ch)) {
      if (current) tokens.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (quote) throw invalidInput('unterminated quote in query');
  if (current) tokens.push(current);
  return tokens;
}

function unquote(raw: string): { value: string } {
  const first = raw[0];
  if ((first === "'" || first === '"') && raw.length >= 2 && raw.endsWith(first)) {
    return { value: raw.slice(1, -1).replace(/\\(.)/g, '$1') };
  }
  return { value: raw };
}

export function parseClauses(query: string): Clause[] {
  return tokenize(query).map((token) => {
    const m = /^([A-Za-z_][\w.]*)(=|:)(.*)$/s.exec(token);
    if (!m) {
      const { value } = unquote(token);
      return { field: undefined, op: undefined, value, prefix: false };
    }
    const [, field, op, rawValue] = m as unknown as [string, string, '=' | ':', string];
    let raw = rawValue;
    let prefix = false;
    // Both email:jo* and name:'Jo'* / name:'Jo*' mean "prefix".
    if (op === ':' && raw.endsWith('*') && !/^(['"]).*\1$/s.test(raw)) {
      prefix = true;
      raw = raw.slice(0, -1);
    }
    let v = unquote(raw).value;
    if (op === ':' && !prefix && v.endsWith('*')) {
      prefix = true;
      v = v.slice(0, -1);
    }
    return { field, op, value: v, prefix };
  });
}

const fold = (s: string) => s.normalize('NFC').toLowerCase();
const words = (s: string) => fold(s).split(/[\s]+/).filter(Boolean);

/** `=` exact; `:` exact on the whole value or on any word; `:x*` prefix of the value or of any word. */
export function textMatches(candidate: string | undefined | null, clause: Clause): boolean {
  if (candidate === undefined || candidate === null) return false;
  const c = fold(candidate);
  const v = fold(clause.value);
  if (clause.op === '=') return c === v;
  if (clause.prefix) return c.startsWith(v) || words(candidate).some((w) => w.startsWith(v));
  if (c === v) return true;
  if (v.includes(' ')) return ` ${c} `.includes(` ${v} `);
  return words(candidate).includes(v);
}

function parseBool(clause: Clause): boolean {
  const v = clause.value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalidInput(`${clause.field} must be true or false`);
}

type Pred<T> = (item: T) => boolean;

function listValues(value: unknown, key: string): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry) => {
    const v = (entry as Record<string, unknown> | null)?.[key];
    return typeof v === 'string' ? [v] : [];
  });
}

export function compileUserQuery(ws: Workspace, query: string | undefined): Pred<UserRecord> {
  if (!query?.trim()) return () => true;
  const preds = parseClauses(query).map((clause): Pred<UserRecord> => {
    if (!clause.field || !clause.op) {
      // Bare words search names and emails.
      return (u) =>
        textMatches(`${u.givenName} ${u.familyName}`, { ...clause, op: ':', prefix: true }) ||
        fold(u.primaryEmail).startsWith(fold(clause.value));
    }
    const field = clause.field;
    switch (field.toLowerCase()) {
      case 'email':
        return (u) => {
          const all = [u.primaryEmail, ...(u.aliases ?? [])].map(fold);
          const v = fold(clause.value);
          return clause.prefix ? all.some((e) => e.startsWith(v)) : all.includes(v);
        };
      case 'givenname':
        return (u) => textMatches(u.givenName, clause);
      case 'familyname':
        return (u) => textMatches(u.familyName, clause);
      case 'name':
        return (u) => textMatches(`${u.givenName} ${u.familyName}`, clause);
      case 'isadmin': {
        const want = parseBool(clause);
        return (u) => u.isAdmin === want;
      }
      case 'isdelegatedadmin': {
        const want = parseBool(clause);
        return (u) => u.isDelegatedAdmin === want;
      }
      case 'issuspended': {
        const want = parseBool(clause);
        return (u) => u.suspended === want;
      }
      case 'isarchived': {
        const want = parseBool(clause);
        return (u) => u.archived === want;
      }
      case 'isenrolledin2sv': {
        const want = parseBool(clause);
        return (u) => u.isEnrolledIn2Sv === want;
      }
      case 'isenforcedin2sv': {
        const want = parseBool(clause);
        return (u) => u.isEnforcedIn2Sv === want;
      }
      case 'orgunitpath': {
        // Google documents orgUnitPath search as matching the OU and everything below it.
        const ou = ws.resolveOrgUnit(clause.value.startsWith('/') ? clause.value : `/${clause.value}`);
        if (!ou) return () => false;
        const ids = ws.subtreeIds(ou.orgUnitId);
        return (u) => ids.has(u.ouId);
      }
      case 'externalid':
        return (u) =>
          listValues(userForSearch(ws, u).externalIds, 'value').some((v) => textMatches(v, clause));
      case 'orgname':
        return (u) =>
          listValues(userForSearch(ws, u).organizations, 'name').some((v) => textMatches(v, clause));
      case 'orgtitle':
        return (u) =>
          listValues(userForSearch(ws, u).organizations, 'title').some((v) => textMatches(v, clause));
      case 'orgdepartment':
        return (u) =>
          listValues(userForSearch(ws, u).organizations, 'department').some((v) => textMatches(v, clause));
      case 'orgcostcenter':
        return (u) =>
          listValues(userForSearch(ws, u).organizations, 'costCenter').some((v) => textMatches(v, clause));
      case 'phone':
        return (u) => listValues(userForSearch(ws, u).phones, 'value').some((v) => textMatches(v, clause));
      case 'manager':
      case 'directmanager':
        return (u) =>
          (userForSearch(ws, u).relations as Array<Record<string, unknown>> | undefined)?.some(
            (r) => r['type'] === 'manager' && textMatches(String(r['value']), clause),
          ) ?? false;
      default: {
        const dot = field.indexOf('.');
        if (dot > 0) {
          // Custom schema search: SchemaName.fieldName=value
          const schema = field.slice(0, dot);
          const key = field.slice(dot + 1);
          return (u) => {
            const values = userForSearch(ws, u).customSchemas?.[schema]?.[key as never] as unknown;
            const list = Array.isArray(values)
              ? values.map((x) => (x as { value?: unknown }).value)
              : [values];
            return list.some((x) => x !== undefined && x !== null && textMatches(String(x), clause));
          };
        }
        throw invalidInput(`unknown search field ${field}`);
      }
    }
  });
  return (u) => preds.every((p) => p(u));
}

function dateRange(value: string): [number, number] {
  const [from, to] = value.includes('..') ? value.split('..') : [value, value];
  const start = from ? Date.parse(`${from}T00:00:00Z`) : -Infinity;
  const end = to ? Date.parse(`${to}T23:59:59.999Z`) : Infinity;
  if (Number.isNaN(start) || Number.isNaN(end)) throw invalidInput(`bad date range ${value}`);
  return [start, end];
}

const CHROME_STATUS_ALIASES: Record<string, string> = {
  provisioned: 'ACTIVE',
  active: 'ACTIVE',
  managed: 'ACTIVE',
  disabled: 'DISABLED',
  deprovisioned: 'DEPROVISIONED',
  pre_provisioned: 'PROVISIONED',
};

function containsOrPrefix(candidate: string | undefined, clause: Clause): boolean {
  if (!candidate) return false;
  const c = fold(candidate);
  const v = fold(clause.value);
  return clause.prefix ? c.startsWith(v) : c.includes(v);
}

export function compileChromeOsQuery(query: string | undefined): Pred<ChromeOsRecord> {
  if (!query?.trim()) return () => true;
  const preds = parseClauses(query).map((clause): Pred<ChromeOsRecord> => {
    if (!clause.field) {
      return (d) =>
        [d.serialNumber, d.annotatedAssetId, d.annotatedUser, d.annotatedLocation, d.notes, d.model].some(
          (x) => containsOrPrefix(x, clause),
        );
    }
    switch (clause.field.toLowerCase()) {
      case 'status': {
        const want = CHROME_STATUS_ALIASES[clause.value.toLowerCase()] ?? clause.value.toUpperCase();
        return (d) => d.status === want;
      }
      case 'id':
        // "id:" searches serial numbers (at least 3 characters, prefix match).
        if (clause.value.length < 3) throw invalidInput('id: needs at least 3 characters');
        return (d) => fold(d.serialNumber).startsWith(fold(clause.value));
      case 'asset_id':
        return (d) => containsOrPrefix(d.annotatedAssetId, clause);
      case 'user':
        return (d) => containsOrPrefix(d.annotatedUser, clause) || containsOrPrefix(d.recentUser, clause);
      case 'location':
        return (d) => containsOrPrefix(d.annotatedLocation, clause);
      case 'note':
        return (d) => containsOrPrefix(d.notes, clause);
      case 'public_model_name':
      case 'model':
        return (d) => containsOrPrefix(d.model, clause);
      case 'sync': {
        const [start, end] = dateRange(clause.value);
        return (d) => d.lastSync >= start && d.lastSync <= end;
      }
      case 'register': {
        const [start, end] = dateRange(clause.value);
        return (d) => d.lastEnrollmentTime >= start && d.lastEnrollmentTime <= end;
      }
      default:
        throw invalidInput(`unknown search operator ${clause.field}`);
    }
  });
  return (d) => preds.every((p) => p(d));
}

export function compileMobileQuery(query: string | undefined): Pred<MobileRecord> {
  if (!query?.trim()) return () => true;
  const preds = parseClauses(query).map((clause): Pred<MobileRecord> => {
    if (!clause.field) {
      return (d) =>
        [d.serialNumber, d.model, d.deviceId, ...d.ownerEmails, ...d.ownerNames].some((x) =>
          containsOrPrefix(x, clause),
        );
    }
    switch (clause.field.toLowerCase()) {
      case 'email':
        return (d) =>
          d.ownerEmails.some((e) =>
            clause.prefix ? fold(e).startsWith(fold(clause.value)) : fold(e) === fold(clause.value),
          );
      case 'name':
        return (d) => d.ownerNames.some((n) => textMatches(n, { ...clause, op: ':' }));
      case 'serial':
        return (d) =>
          clause.prefix
            ? fold(d.serialNumber).startsWith(fold(clause.value))
            : fold(d.serialNumber) === fold(clause.value);
      case 'status':
        return (d) => d.status === clause.value.toUpperCase();
      case 'type':
        return (d) => d.type === clause.value.toUpperCase();
      case 'model':
        return (d) => containsOrPrefix(d.model, clause);
      case 'os':
        return (d) => containsOrPrefix(d.os, clause);
      case 'sync': {
        const [start, end] = dateRange(clause.value);
        return (d) => d.lastSync >= start && d.lastSync <= end;
      }
      default:
        throw invalidInput(`unknown search operator ${clause.field}`);
    }
  });
  return (d) => preds.every((p) => p(d));
}
