import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/** How a response should be sabotaged by the connection-reset fault. */
export type ResetPhase = 'beforeHeaders' | 'midBody';

export interface SendOptions {
  headers?: Record<string, string>;
  /** Google pretty-prints unless `prettyPrint=false`; the client does not care, humans using curl do. */
  pretty?: boolean;
  reset?: ResetPhase;
}

export function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return /(^|[\s,])gzip(\s*;\s*q=(?!0(\.0*)?\b)[\d.]+)?\s*(,|$)/i.test(value);
}

export async function sendBody(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  options: SendOptions = {},
): Promise<void> {
  if (options.reset === 'beforeHeaders') {
    req.socket.destroy();
    return;
  }
  let payload: Buffer = Buffer.from(text, 'utf8');
  const headers: Record<string, string> = {
    'content-type': contentType,
    vary: 'Origin, X-Origin, Referer',
    'x-content-type-options': 'nosniff',
    ...options.headers,
  };
  if (acceptsGzip(req) && payload.length > 0) {
    payload = await gzipAsync(payload);
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = String(payload.length);
  res.writeHead(status, headers);
  if (options.reset === 'midBody') {
    // Promise a full body, deliver half, then drop the TCP connection: the client sees a premature close.
    res.write(payload.subarray(0, Math.max(1, Math.floor(payload.length / 2))));
    setTimeout(() => req.socket.destroy(), 5);
    return;
  }
  res.end(payload);
}

export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  options: SendOptions = {},
): Promise<void> {
  const text = options.pretty === false ? JSON.stringify(body) : JSON.stringify(body, null, 2);
  return sendBody(req, res, status, 'application/json; charset=UTF-8', `${text}\n`, options);
}

export function sendHtml(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
): Promise<void> {
  return sendBody(req, res, status, 'text/html; charset=utf-8', html, { headers });
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate' });
  res.end();
}

export class BodyTooLargeError extends Error {}

export async function readBody(req: IncomingMessage, limitBytes = 5 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limitBytes) throw new BodyTooLargeError(`request body larger than ${limitBytes} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Form bodies (OAuth) may also arrive as JSON from hand-written clients; accept both like Google does. */
export async function readFormOrJson(req: IncomingMessage): Promise<URLSearchParams> {
  const raw = (await readBody(req)).toString('utf8');
  const type = String(req.headers['content-type'] ?? '');
  if (type.includes('application/json') && raw.trim()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // Unparseable bodies read as "no parameters": the endpoint then answers with its own invalid_request.
      return new URLSearchParams();
    }
    const params = new URLSearchParams();
    if (parsed && typeof parsed === 'object') {
      for (const [k, v] of Object.entries(parsed)) {
        if (v !== undefined && v !== null) params.set(k, String(v));
      }
    }
    return params;
  }
  return new URLSearchParams(raw);
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export const isLoopbackAddress = (address: string | undefined): boolean =>
  address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
