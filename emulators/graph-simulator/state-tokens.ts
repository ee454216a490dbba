import { z } from 'zod';

// $skiptoken and $deltatoken values. Clients must treat them as opaque; the simulator keeps its paging state in
// them (base64url JSON) so that nothing needs to be stored per client, as with Graph's own state tokens.

const listStateSchema = z.strictObject({
  k: z.literal('list'),
  t: z.string(),
  /** Last id of the previous page (keyset paging survives inserts and deletes between pages). */
  after: z.string(),
});

const deltaStateSchema = z.strictObject({
  k: z.literal('delta'),
  t: z.string(),
  e: z.int(),
  /** Changes after this sequence belong to the round; -1 is the initial (full) round. */
  from: z.int(),
  /** Tenant sequence when the round started; becomes `from` of the next round. */
  to: z.int(),
  after: z.string().nullable(),
  sel: z.array(z.string()).nullable(),
  /** An 'everyChange' round (fixed when the round starts): it pages through the change log, not the users. */
  each: z.literal(true).optional(),
  /** In an 'everyChange' round: the sequence of the last change the previous page listed. */
  afterSeq: z.int().optional(),
});

export type ListState = z.infer<typeof listStateSchema>;
export type DeltaState = z.infer<typeof deltaStateSchema>;

const PREFIX = { list: 'L1', delta: 'D1' } as const;

function encode(prefix: string, state: object): string {
  return prefix + Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

function decode<T>(prefix: string, schema: z.ZodType<T>, token: string): T | undefined {
  if (!token.startsWith(prefix)) return undefined;
  try {
    const parsed = schema.safeParse(
      JSON.parse(Buffer.from(token.slice(prefix.length), 'base64url').toString('utf8')),
    );
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const encodeListState = (state: ListState) => encode(PREFIX.list, state);
export const decodeListState = (token: string) => decode(PREFIX.list, listStateSchema, token);
export const encodeDeltaState = (state: DeltaState) => encode(PREFIX.delta, state);
export const decodeDeltaState = (token: string) => decode(PREFIX.delta, deltaStateSchema, token);
