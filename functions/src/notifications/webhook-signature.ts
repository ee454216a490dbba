import { createHmac, randomBytes } from 'node:crypto';

/**
 * Outbound webhooks are signed as Standard Webhooks (https://www.standardwebhooks.com) specifies, so a host can
 * verify them with any of that spec's libraries (`standardwebhooks`, Svix's): the secret is `whsec_` + base64
 * of the key bytes, and each request carries
 *   webhook-id          the event id (the same on every retry: the host deduplicates by it)
 *   webhook-timestamp   unix seconds of this attempt
 *   webhook-signature   `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`))
 * HMAC itself is node:crypto's; the few lines here only assemble the spec's string, which no installed library
 * does for the sending side.
 */
const SECRET_PREFIX = 'whsec_';

/** A new signing secret: 32 random bytes, in the spec's text form. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
}

export function webhookSignatureHeaders(
  secret: string,
  webhookId: string,
  timestampSeconds: number,
  body: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const signature = createHmac('sha256', keyOf(secret))
    .update(`${webhookId}.${timestampSeconds}.${body}`)
    .digest('base64');
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${signature}`,
  };
}
