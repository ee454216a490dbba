/**
 * Structured JSON logs (Cloud Logging parses one JSON object per line). Values under keys that can carry
 * credentials are replaced before anything is written, and token-shaped strings are masked wherever they
 * appear, so a careless `log.info('x', { response })` cannot leak a refresh token.
 */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const SECRET_KEYS = /token|secret|code_verifier|codeVerifier|password|authorization|^code$|cookie|assertion/i;
// Google OAuth tokens: access "ya29.", refresh "1//"; plus our simulator's opaque tokens and JWTs.
const TOKEN_SHAPES =
  /\b(ya29\.[\w-]+|1\/\/[\w-]+|eyJ[\w-]+\.[\w-]+\.[\w-]*|(?:sim|rt|at)_[A-Za-z0-9_-]{16,})/g;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (typeof value === 'string') return value.replace(TOKEN_SHAPES, '[redacted]');
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1) };
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = SECRET_KEYS.test(k) ? '[redacted]' : redact(v, depth + 1);
    return out;
  }
  return value;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export type LogSink = (line: string) => void;

let sink: LogSink = (line) => process.stdout.write(`${line}\n`);
// INFO until the composition root applies the configured level (config.log): importing reads no environment.
let minLevel: LogLevel = 'INFO';
const ORDER: Record<LogLevel, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3 };

/** Tests capture log lines to prove no secret is ever written. */
export function setLogSink(next: LogSink, level: LogLevel = minLevel): void {
  sink = next;
  minLevel = level;
}

/** The configured level (LOG_LEVEL, validated by platform/config); lines below it are dropped. */
export function setLogLevel(level: LogLevel): void {
  minLevel = level;
}

export function createLogger(base: Record<string, unknown> = {}): Logger {
  const write = (severity: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[severity] < ORDER[minLevel]) return;
    const entry = redact({ severity, message, ...base, ...fields }) as Record<string, unknown>;
    sink(JSON.stringify({ ...entry, time: new Date().toISOString() }));
  };
  return {
    debug: (m, f) => write('DEBUG', m, f),
    info: (m, f) => write('INFO', m, f),
    warn: (m, f) => write('WARNING', m, f),
    error: (m, f) => write('ERROR', m, f),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
}

export const log = createLogger({ service: 'workspace-sync' });
