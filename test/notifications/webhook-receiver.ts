import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A host product's webhook endpoint for tests: verifies each request as the Standard Webhooks spec tells a
 * receiver to (written from the spec, independently of the service's signing code): the secret's bytes are the
 * base64 after `whsec_`, the signed content is `${webhook-id}.${webhook-timestamp}.${body}`, any `v1,` entry of
 * the space-separated webhook-signature header may match, and the timestamp must be within 5 minutes.
 */
export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  verified: boolean;
  answered: number;
}

export function verifyStandardWebhook(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  if (!secret.startsWith('whsec_')) return false;
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowSeconds - ts) > 300) return false;
  const expected = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
    .update(`${headers.id}.${headers.timestamp}.${body}`)
    .digest();
  return headers.signature.split(' ').some((entry) => {
    const [version, sig = ''] = entry.split(',');
    const given = Buffer.from(sig, 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** The secret the receiver verifies with (set once the service has told it). */
  secret: string;
  /** Statuses to answer with, in order; when used up, 200 (or 401 for a signature that does not verify). */
  answers: number[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    secret: '',
    answers: [],
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {
        id: String(req.headers['webhook-id'] ?? ''),
        timestamp: String(req.headers['webhook-timestamp'] ?? ''),
        signature: String(req.headers['webhook-signature'] ?? ''),
      };
      const verified = verifyStandardWebhook(receiver.secret, headers, body);
      const answered = receiver.answers.shift() ?? (verified ? 200 : 401);
      receiver.received.push({ ...headers, body, verified, answered });
      res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/workspace-sync`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
