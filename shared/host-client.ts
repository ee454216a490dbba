import type { z } from 'zod';
import { hostSignatureHeaders } from '../functions/src/api/host-hmac.js';
import type { createTenantBody } from '../functions/src/api/routes/tenant-routes.js';
import type { memberBody } from '../functions/src/api/routes/member-routes.js';
import type { syncBody } from '../functions/src/api/routes/sync-webhook.js';
import type { Planned } from '../functions/src/api/request-refresh.js';
import type { deviceActionRequestSchema } from '../functions/src/devices/device-actions.js';

/**
 * A small typed client for host products (Asset Panda Pro, K12 Panel...) calling the API with the `ws-hmac-v2`
 * signature (README "Security"; the `hostSignature` scheme of GET /api/openapi.json). Every request is signed
 * anew with `hostSignatureHeaders()` (functions/src/api/host-hmac.ts, the reference implementation), over the
 * path and query exactly as they go on the wire and the exact body bytes. A signature is accepted once, so a
 * retry is a new call (and so a new signature); pass `idempotencyKey` to make a retried write safe.
 * Request types are the input types of the schemas the routes validate with.
 */
export interface HostKey {
  keyId: string;
  secret: string;
}

export type CreateTenantInput = z.input<typeof createTenantBody>;
export type MemberRole = z.input<typeof memberBody>['role'];
export type SyncInput = z.input<typeof syncBody>;
export type DeviceActionInput = z.input<typeof deviceActionRequestSchema>;

export interface CreatedTenant {
  tenantId: string;
  name: string;
  status: 'pending';
  ownerEmail: string;
  /** false when the same tenant already existed (the call is idempotent). */
  created: boolean;
}
export interface Member {
  email: string;
  role: MemberRole;
  [field: string]: unknown;
}

/** The API refused: its `{"error":{"code","message","details?"}}` with the HTTP status. */
export class HostApiError extends Error {
  override readonly name = 'HostApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Array<{ path: string; message: string }> = [],
    readonly retryAfterSeconds?: number,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

export interface HostResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface HostClientOptions {
  /** The console origin (Hosting forwards /api/** to the api function) or the api function's own URL. */
  baseUrl: string;
  key: HostKey;
  fetch?: typeof fetch;
  /** Clock for the signature's timestamp (ms). */
  now?: () => number;
}

const tenantPath = (tenantId: string, rest = '') => `/api/tenants/${encodeURIComponent(tenantId)}${rest}`;

export class HostClient {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly opts: HostClientOptions) {
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.now = opts.now ?? Date.now;
  }

  /** Any endpoint the host may call; `path` may carry a query string. Throws HostApiError on a refusal. */
  async request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
    opts: { idempotencyKey?: string } = {},
  ): Promise<HostResponse<T>> {
    const url = new URL(path, this.opts.baseUrl);
    const rawBody = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = {
      // What is signed is what URL puts on the wire (its percent-encoding, not the string we were given).
      ...hostSignatureHeaders(
        this.opts.key,
        { method, path: `${url.pathname}${url.search}`, rawBody },
        this.now(),
      ),
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    const res = await this.fetch(url, {
      method,
      headers,
      ...(body !== undefined ? { body: rawBody } : {}),
      redirect: 'manual',
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
        ?.error;
      const retryAfter = Number(res.headers.get('retry-after'));
      throw new HostApiError(
        res.status,
        typeof err?.code === 'string' ? err.code : 'unknown',
        typeof err?.message === 'string' ? err.message : text.slice(0, 200),
        Array.isArray(err?.details) ? (err.details as HostApiError['details']) : [],
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      );
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /** POST /api/tenants: a new tenant with its first owner; repeating the same call is harmless. */
  async createTenant(input: CreateTenantInput): Promise<CreatedTenant> {
    return (await this.request<CreatedTenant>('POST', '/api/tenants', input)).body;
  }

  async listMembers(tenantId: string): Promise<{ members: Member[]; you: null; maxMembers: number }> {
    return (
      await this.request<{ members: Member[]; you: null; maxMembers: number }>(
        'GET',
        tenantPath(tenantId, '/members'),
      )
    ).body;
  }

  /** Adds a member or changes their role. */
  async putMember(
    tenantId: string,
    email: string,
    role: MemberRole,
  ): Promise<Member & { result: 'added' | 'changed' | 'unchanged' }> {
    const path = tenantPath(tenantId, `/members/${encodeURIComponent(email)}`);
    return (await this.request<Member & { result: 'added' | 'changed' | 'unchanged' }>('PUT', path, { role }))
      .body;
  }

  async removeMember(tenantId: string, email: string): Promise<{ email: string; removed: true }> {
    const path = tenantPath(tenantId, `/members/${encodeURIComponent(email)}`);
    return (await this.request<{ email: string; removed: true }>('DELETE', path)).body;
  }

  /** "Sync now": 202 with a run per mapping; HostApiError 429 (with retryAfterSeconds) once the window is full. */
  async syncNow(
    tenantId: string,
    input: SyncInput = {},
    opts: { idempotencyKey?: string } = {},
  ): Promise<{ runs: Planned[] }> {
    return (await this.request<{ runs: Planned[] }>('POST', tenantPath(tenantId, '/sync'), input, opts)).body;
  }

  /** Device actions at Google (disable, wipe, move...); destructive ones need `confirm`. */
  async deviceAction(
    tenantId: string,
    input: DeviceActionInput,
    opts: { idempotencyKey?: string } = {},
  ): Promise<{ action: Record<string, unknown> }> {
    return (
      await this.request<{ action: Record<string, unknown> }>(
        'POST',
        tenantPath(tenantId, '/devices/actions'),
        input,
        opts,
      )
    ).body;
  }
}
