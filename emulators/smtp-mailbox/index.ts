import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server for the local stack and tests: nodemailer talks SMTP to it exactly as to a provider's
 * server, and every accepted message is parsed (mailparser) and kept in memory for the test or the developer to
 * read. No TLS and no authentication (the service's `SMTP_SECURITY=none`, which only a local server gets).
 */
export interface ReceivedMail {
  /** SMTP envelope: who the server was asked to deliver to. */
  envelopeTo: string[];
  from: string;
  to: string[];
  subject: string;
  text: string;
  receivedAt: string;
}

export interface RunningSmtpMailbox {
  host: string;
  port: number;
  messages(): ReceivedMail[];
  /**
   * The first message matching, waiting for it at most `timeoutMs` (bounded: a test that expects mail which never
   * comes fails with the messages that did arrive).
   */
  waitFor(match: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

export async function startSmtpMailbox(
  opts: { port?: number; host?: string; onMail?: (m: ReceivedMail) => void } = {},
): Promise<RunningSmtpMailbox> {
  const received: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    size: 1024 * 1024,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const addresses = (v: typeof parsed.to) =>
            (Array.isArray(v) ? v : v ? [v] : []).flatMap((a) => a.value.map((x) => x.address ?? ''));
          const mail: ReceivedMail = {
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            from: parsed.from?.value[0]?.address ?? '',
            to: addresses(parsed.to),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            receivedAt: new Date().toISOString(),
          };
          received.push(mail);
          opts.onMail?.(mail);
          for (const wake of waiters) wake();
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    messages: () => [...received],
    waitFor(match, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(match);
          if (!found) return false;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(found);
          return true;
        };
        const wake = () => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(
            new Error(
              `no matching mail within ${timeoutMs} ms; received: ${JSON.stringify(received.map((m) => m.subject))}`,
            ),
          );
        }, timeoutMs);
        waiters.add(wake);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
