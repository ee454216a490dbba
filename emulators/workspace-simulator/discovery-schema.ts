import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';

/**
 * googleapis ships the Directory API discovery document only as generated TypeScript (`directory_v1.d.ts`,
 * one `Schema$X` interface per discovery schema). This module reads those interfaces back with the TypeScript
 * compiler API so contract tests can check served JSON against the same source the client is typed from.
 * Test-time only: the simulator itself never imports it.
 */
export type SchemaType =
  | { kind: 'string' | 'number' | 'boolean' | 'any' }
  | { kind: 'array'; items: SchemaType }
  | {
      kind: 'object';
      properties: Map<string, SchemaProperty>;
      additional: SchemaType | undefined;
      open: boolean;
    }
  | { kind: 'ref'; name: string };

export interface SchemaProperty {
  type: SchemaType;
  doc: string;
}

export interface NamedSchema {
  name: string;
  doc: string;
  type: Extract<SchemaType, { kind: 'object' }>;
}

export function directoryDtsPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('googleapis/package.json');
  return join(dirname(pkg), 'build/src/apis/admin/directory_v1.d.ts');
}

function docOf(node: ts.Node): string {
  return ts
    .getJSDocCommentsAndTags(node)
    .map((d) => (ts.isJSDoc(d) ? (ts.getTextOfJSDocComment(d.comment) ?? '') : ''))
    .join('\n')
    .trim();
}

function convert(node: ts.TypeNode): SchemaType {
  if (ts.isUnionTypeNode(node)) {
    const meaningful = node.types.filter(
      (t) =>
        !(ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword) &&
        t.kind !== ts.SyntaxKind.UndefinedKeyword,
    );
    if (meaningful.length === 1) return convert(meaningful[0] as ts.TypeNode);
    return { kind: 'any' };
  }
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { kind: 'string' };
    case ts.SyntaxKind.NumberKeyword:
      return { kind: 'number' };
    case ts.SyntaxKind.BooleanKeyword:
      return { kind: 'boolean' };
    case ts.SyntaxKind.AnyKeyword:
    case ts.SyntaxKind.UnknownKeyword:
      return { kind: 'any' };
  }
  if (ts.isParenthesizedTypeNode(node)) return convert(node.type);
  if (ts.isArrayTypeNode(node)) return { kind: 'array', items: convert(node.elementType) };
  if (ts.isTypeReferenceNode(node)) {
    const name = node.typeName.getText();
    if (name === 'Array' && node.typeArguments?.[0])
      return { kind: 'array', items: convert(node.typeArguments[0]) };
    if (name.startsWith('Schema$')) return { kind: 'ref', name: name.slice('Schema$'.length) };
    return { kind: 'any' };
  }
  if (ts.isTypeLiteralNode(node)) return objectOf(node.members);
  return { kind: 'any' };
}

function objectOf(members: ts.NodeArray<ts.TypeElement>): Extract<SchemaType, { kind: 'object' }> {
  const properties = new Map<string, SchemaProperty>();
  let additional: SchemaType | undefined;
  for (const m of members) {
    if (ts.isPropertySignature(m) && m.type) {
      const name = ts.isStringLiteral(m.name) ? m.name.text : m.name.getText();
      properties.set(name, { type: convert(m.type), doc: docOf(m) });
    } else if (ts.isIndexSignatureDeclaration(m)) {
      additional = convert(m.type);
    }
  }
  // An empty interface is how the generator renders `additionalProperties: any` (e.g. UserCustomProperties).
  const open = properties.size === 0 && additional === undefined;
  return { kind: 'object', properties, additional, open };
}

/** All `Schema$X` interfaces of the `admin_directory_v1` namespace, keyed by X. */
export function loadDirectorySchemas(dtsPath = directoryDtsPath()): Map<string, NamedSchema> {
  const source = ts.createSourceFile(dtsPath, readFileSync(dtsPath, 'utf8'), ts.ScriptTarget.Latest, true);
  const schemas = new Map<string, NamedSchema>();
  const visit = (node: ts.Node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text.startsWith('Schema$')) {
      const name = node.name.text.slice('Schema$'.length);
      schemas.set(name, { name, doc: docOf(node), type: objectOf(node.members) });
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return schemas;
}

/**
 * The discovery document types most of User's repeated fields as `any` and names the element template only in
 * prose ("JSON template for ..."). These refinements make the contract check those arrays too.
 */
export const USER_ANY_FIELD_TEMPLATES: Record<string, SchemaType> = {
  emails: { kind: 'array', items: { kind: 'ref', name: 'UserEmail' } },
  externalIds: { kind: 'array', items: { kind: 'ref', name: 'UserExternalId' } },
  relations: { kind: 'array', items: { kind: 'ref', name: 'UserRelation' } },
  addresses: { kind: 'array', items: { kind: 'ref', name: 'UserAddress' } },
  organizations: { kind: 'array', items: { kind: 'ref', name: 'UserOrganization' } },
  phones: { kind: 'array', items: { kind: 'ref', name: 'UserPhone' } },
  languages: { kind: 'array', items: { kind: 'ref', name: 'UserLanguage' } },
  ims: { kind: 'array', items: { kind: 'ref', name: 'UserIm' } },
  keywords: { kind: 'array', items: { kind: 'ref', name: 'UserKeyword' } },
  locations: { kind: 'array', items: { kind: 'ref', name: 'UserLocation' } },
  posixAccounts: { kind: 'array', items: { kind: 'ref', name: 'UserPosixAccount' } },
  sshPublicKeys: { kind: 'array', items: { kind: 'ref', name: 'UserSshPublicKey' } },
  websites: { kind: 'array', items: { kind: 'ref', name: 'UserWebsite' } },
  gender: { kind: 'ref', name: 'UserGender' },
  notes: { kind: 'ref', name: 'UserAbout' },
};

export function refineUserAnyFields(schemas: Map<string, NamedSchema>): void {
  const user = schemas.get('User');
  if (!user) throw new Error('Schema$User not found');
  for (const [field, type] of Object.entries(USER_ANY_FIELD_TEMPLATES)) {
    const prop = user.type.properties.get(field);
    if (prop && prop.type.kind === 'any') prop.type = type;
  }
}

/** The `kind` value a schema's doc comments promise, e.g. `admin#directory#user`; undefined if not stated. */
export function documentedKind(schema: NamedSchema): string | undefined {
  const doc = schema.type.properties.get('kind')?.doc ?? '';
  return /`(admin#directory#[A-Za-z#]+)`/.exec(doc)?.[1];
}

/** Every way `value` departs from the schema, as `path: problem` lines (empty = conforms). */
export function validateAgainst(
  schemas: Map<string, NamedSchema>,
  schemaName: string,
  value: unknown,
  path = '$',
): string[] {
  return check(schemas, { kind: 'ref', name: schemaName }, value, path);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function check(schemas: Map<string, NamedSchema>, type: SchemaType, value: unknown, path: string): string[] {
  // Google leaves absent fields out rather than sending null, so a null is always drift.
  if (value === null) return [`${path}: null (Google omits absent fields)`];
  switch (type.kind) {
    case 'any':
      return [];
    case 'string':
    case 'number':
    case 'boolean':
      return typeof value === type.kind ? [] : [`${path}: expected ${type.kind}, got ${jsonType(value)}`];
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected array, got ${jsonType(value)}`];
      return value.flatMap((v, i) => check(schemas, type.items, v, `${path}[${i}]`));
    case 'ref': {
      const schema = schemas.get(type.name);
      if (!schema) return [`${path}: unknown schema ${type.name}`];
      return check(schemas, schema.type, value, `${path}<${type.name}>`);
    }
    case 'object': {
      if (jsonType(value) !== 'object') return [`${path}: expected object, got ${jsonType(value)}`];
      if (type.open) return [];
      return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
        const prop = type.properties.get(key);
        if (prop) return check(schemas, prop.type, v, `${path}.${key}`);
        if (type.additional) return check(schemas, type.additional, v, `${path}.${key}`);
        return [`${path}.${key}: not declared in the schema`];
      });
    }
  }
}
