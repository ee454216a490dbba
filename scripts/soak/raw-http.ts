import { request, Agent } from 'node:http';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
  ms: number;
}

export interface RawRequest {
  method: string;
  /** Sent verbatim: fetch() would resolve `..` and `%2e%2e` before sending, which is what is being tested. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length). */
  chunked?: boolean;
}

// One connection per request: a refused request may close its connection, which must not fail the next.
const agent = new Agent({ keepAlive: false, maxSockets: 512 });

/** One HTTP/1.1 request with nothing normalised: path, headers and body bytes exactly as given. */
export function rawRequest(baseUrl: string, r: RawRequest): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    const headers: Record<string, string> = { ...r.headers };
    if (body && !r.chunked) headers['content-length'] = String(body.length);
    // Explicit: Node's client does not chunk GET and DELETE bodies by default, it would send them unframed.
    if (body && r.chunked) headers['transfer-encoding'] = 'chunked';
    const req = request(
      { host: url.hostname, port: url.port, method: r.method, path: r.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? (JSON.parse(text) as unknown) : undefined;
          } catch {
            json = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json,
            ms: performance.now() - started,
          });
        });
        res.on('error', reject);
      },
    );
    // The server may answer (413, 431) and close before the whole request is written; the answer still counts.
    req.on('error', reject);
    if (body && r.chunked) {
      for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.subarray(i, i + 16 * 1024));
    } else if (body) req.write(body);
    req.end();
  });
}

/** The API's error shape: {"error":{"code","message",...}}. */
export function isJsonError(a: RawAnswer): boolean {
  const e = (a.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return (
    typeof e?.code === 'string' &&
    typeof e.message === 'string' &&
    /^application\/json/.test(String(a.headers['content-type'] ?? ''))
  );
}

/** Anything that looks like a stack trace or an internal path. */
export function leaksInternals(a: RawAnswer): boolean {
  return /\n\s+at |node_modules|\.ts:\d+|\.js:\d+|<pre>|Error: /.test(a.text);
}
