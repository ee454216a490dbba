import {
  DEFAULT_USER_PROPERTIES,
  resolveUserProperty,
  type DirectoryUser,
  type UserProperty,
} from './directory-user.js';
import { graphErrors } from './graph-error.js';

export const MAX_PAGE_SIZE = 999;
export const DEFAULT_LIST_PAGE_SIZE = 100;

/** `$select=displayName, Mail` -> canonical names; unknown names are a 400, as in Graph. */
export function parseSelect(raw: string | null): UserProperty[] | null {
  if (raw === null || raw.trim() === '') return null;
  const out: UserProperty[] = [];
  for (const name of raw.split(',')) {
    const property = resolveUserProperty(name);
    if (!property) throw graphErrors.unknownProperty(name.trim());
    if (!out.includes(property)) out.push(property);
  }
  return out;
}

export function parsePageSize(raw: string | null, fallback: number): number {
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
    throw graphErrors.invalidPageSize(raw);
  }
  return n;
}

/** `Prefer: odata.maxpagesize=500` (delta paging). Out-of-range values are ignored rather than rejected. */
export function preferredPageSize(prefer: string | string[] | undefined): number | undefined {
  const match = /odata\.maxpagesize\s*=\s*(\d+)/i.exec([prefer ?? ''].flat().join(','));
  const n = Number(match?.[1]);
  return Number.isInteger(n) && n >= 1 && n <= MAX_PAGE_SIZE ? n : undefined;
}

/**
 * Shapes a user for a response. With $select Graph returns exactly the selected properties; the simulator also
 * always includes `id` (clients key on it). Delta responses omit properties that were never set.
 */
export function projectUser(
  user: DirectoryUser,
  select: readonly UserProperty[] | null,
  omitUnset?: ReadonlySet<UserProperty>,
): Record<string, unknown> {
  const properties = select ?? DEFAULT_USER_PROPERTIES;
  const out: Record<string, unknown> = {};
  for (const property of properties) {
    const value = user[property];
    if (value === null && omitUnset && !omitUnset.has(property)) continue;
    out[property] = value;
  }
  if (!('id' in out)) out.id = user.id;
  return out;
}

// ---- $filter: the subset Entra supports for users without ConsistencyLevel: eventual ----

type Predicate = (user: DirectoryUser) => boolean;
type Token = { kind: 'ident' | 'string' | 'punct'; text: string };

const EQ_PROPERTIES: ReadonlySet<UserProperty> = new Set([
  'id',
  'accountEnabled',
  'userPrincipalName',
  'mail',
  'displayName',
  'givenName',
  'surname',
  'jobTitle',
  'department',
  'employeeId',
  'userType',
  'onPremisesSyncEnabled',
]);
const STARTSWITH_PROPERTIES: ReadonlySet<UserProperty> = new Set([
  'userPrincipalName',
  'mail',
  'displayName',
  'givenName',
  'surname',
  'jobTitle',
  'department',
  'employeeId',
]);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c });
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw graphErrors.invalidFilter('unterminated string literal');
        if (text.charAt(i) === "'") {
          if (text.charAt(i + 1) === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text.charAt(i++);
      }
      tokens.push({ kind: 'string', text: value });
    } else {
      const match = /^[A-Za-z0-9_.@#$-]+/.exec(text.slice(i));
      if (!match) throw graphErrors.invalidFilter(`unexpected character '${c}'`);
      tokens.push({ kind: 'ident', text: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
}

const lower = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value);

class FilterParser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Predicate {
    const predicate = this.orExpr();
    if (this.pos < this.tokens.length) throw graphErrors.invalidFilter(`unexpected '${this.peek()?.text}'`);
    return predicate;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private keyword(word: string): boolean {
    const token = this.peek();
    if (token?.kind === 'ident' && token.text.toLowerCase() === word) {
      this.pos++;
      return true;
    }
    return false;
  }

  private expect(text: string): void {
    const token = this.tokens[this.pos++];
    if (token?.kind !== 'punct' || token.text !== text) throw graphErrors.invalidFilter(`expected '${text}'`);
  }

  private orExpr(): Predicate {
    const parts = [this.andExpr()];
    while (this.keyword('or')) parts.push(this.andExpr());
    return parts.length === 1 ? (parts[0] as Predicate) : (u) => parts.some((p) => p(u));
  }

  private andExpr(): Predicate {
    const parts = [this.primary()];
    while (this.keyword('and')) parts.push(this.primary());
    return parts.length === 1 ? (parts[0] as Predicate) : (u) => parts.every((p) => p(u));
  }

  private property(supported: ReadonlySet<UserProperty>): UserProperty {
    const token = this.tokens[this.pos++];
    if (token?.kind !== 'ident') throw graphErrors.invalidFilter('expected a property name');
    const property = resolveUserProperty(token.text);
    if (!property || !supported.has(property)) {
      throw graphErrors.unsupportedFilter(
        `Unsupported or invalid query filter clause specified for property '${token.text}' of resource 'User'.`,
      );
    }
    return property;
  }

  private literal(): unknown {
    const token = this.tokens[this.pos++];
    if (token?.kind === 'string') return token.text;
    if (token?.kind === 'ident') {
      const word = token.text.toLowerCase();
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
    }
    throw graphErrors.invalidFilter('expected a literal');
  }

  private primary(): Predicate {
    const token = this.peek();
    if (token?.kind === 'punct' && token.text === '(') {
      this.pos++;
      const inner = this.orExpr();
      this.expect(')');
      return inner;
    }
    if (this.keyword('startswith')) {
      this.expect('(');
      const property = this.property(STARTSWITH_PROPERTIES);
      this.expect(',');
      const prefix = this.literal();
      this.expect(')');
      if (typeof prefix !== 'string') throw graphErrors.invalidFilter('startswith needs a string');
      const needle = prefix.toLowerCase();
      return (u) => {
        const value = u[property];
        return typeof value === 'string' && value.toLowerCase().startsWith(needle);
      };
    }
    const property = this.property(EQ_PROPERTIES);
    if (!this.keyword('eq')) {
      throw graphErrors.unsupportedFilter(
        `Unsupported query: only 'eq' and startswith() are supported on '${property}' without advanced query.`,
      );
    }
    const expected = lower(this.literal());
    return (u) => lower(u[property]) === expected;
  }
}

export function parseFilter(raw: string | null): Predicate | null {
  if (raw === null || raw.trim() === '') return null;
  return new FilterParser(tokenize(raw)).parse();
}
