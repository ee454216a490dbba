/** Identity sources a person can come from. Order here is only for display; precedence is per tenant. */
export const SOURCE_NAMES = ['google', 'entra'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

/** One source's view of a person, already mapped to our field names. */
export interface SourcePerson {
  source: SourceName;
  /** The source's own immutable id (Google user id, Entra object id); emails can be renamed, ids cannot. */
  sourceId: string;
  email: string;
  fields: Record<string, unknown>;
  active: boolean;
}
