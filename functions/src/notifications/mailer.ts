import type { Transporter } from 'nodemailer';
import { SMTP_PASSWORD_SECRET_ID, type SmtpConfig } from '../platform/config.js';
import type { SecretStore } from '../secrets/secret-store.js';
import {
  EVENT_LABELS,
  type ConnectionFailingData,
  type EventBody,
  type RecordsChangedData,
  type RunEventData,
} from './events.js';

/** Sends one message; resolves when the SMTP server accepted it for every recipient, throws otherwise. */
export type SendMail = (mail: { to: string[]; subject: string; text: string }) => Promise<void>;

/**
 * SMTP through nodemailer, loaded and connected on first use (most invocations send no email). The password of
 * SMTP_USER comes from Secret Manager, never from the environment.
 */
export function smtpMailer(smtp: SmtpConfig, secrets: SecretStore, timeoutMs: number): SendMail {
  let transport: Promise<Transporter> | null = null;
  const open = async () => {
    const nodemailer = (await import('nodemailer')).default;
    const password = smtp.user ? await secrets.getServiceSecret(SMTP_PASSWORD_SECRET_ID) : null;
    if (smtp.user && password === null)
      throw new Error(`the SMTP password secret ${SMTP_PASSWORD_SECRET_ID} is missing`);
    return nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.security === 'tls',
      requireTLS: smtp.security === 'starttls',
      ignoreTLS: smtp.security === 'none',
      ...(smtp.user && password ? { auth: { user: smtp.user, pass: password } } : {}),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
  };
  return async ({ to, subject, text }) => {
    transport ??= open();
    transport.catch(() => (transport = null)); // a failed open is tried again on the next send
    const info = await (await transport).sendMail({ from: smtp.from, to, subject, text });
    const rejected = (info.rejected ?? []).map(String);
    if (rejected.length > 0) throw new Error(`the SMTP server refused ${rejected.length} recipient(s)`);
  };
}

/** The email for an event: a subject naming what happened and the tenant, a plain-text body saying what to do. */
export function emailFor(
  event: EventBody,
  tenantName: string,
  consoleOrigin: string,
): { subject: string; text: string } {
  const link = `${consoleOrigin}/#/t/${event.tenantId}`;
  const lines: string[] = [];
  let subject = `${EVENT_LABELS[event.type]} · ${tenantName}`;
  switch (event.type) {
    case 'run.failed':
    case 'run.held':
    case 'run.succeeded_with_errors': {
      const d = event.data as RunEventData;
      subject = `${EVENT_LABELS[event.type]}: ${d.mappingName} · ${tenantName}`;
      lines.push(`Mapping: ${d.mappingName} (${d.source} ${d.entity})`, `Run: ${d.runId}`);
      if (d.message) lines.push('', d.message);
      if (d.counts) {
        const c = d.counts;
        lines.push(
          '',
          `Created ${c.created ?? 0}, updated ${c.updated ?? 0}, removed ${c.removed ?? 0}, failed ${c.failed ?? 0}.`,
        );
      }
      if (event.type === 'run.held') lines.push('', `Review and confirm the removals: ${link}/runs`);
      else lines.push('', `See the run: ${link}/runs`);
      break;
    }
    case 'tenant.needs_reauthorization': {
      const d = event.data as { source: string; reason: string };
      lines.push(
        `${d.source === 'entra' ? 'Microsoft Entra' : 'Google Workspace'} no longer accepts the stored authorization: ${d.reason}`,
        '',
        `Syncing is stopped until an admin reconnects: ${link}`,
      );
      break;
    }
    case 'tenant.connection_failing': {
      const d = event.data as ConnectionFailingData;
      lines.push(
        `The periodic check of the Google Workspace connection failed: ${d.reason}`,
        '',
        `Syncs will fail until this is fixed; the connection page says what to do: ${link}`,
      );
      break;
    }
    case 'records.changed': {
      const d = event.data as RecordsChangedData;
      lines.push(
        `${d.objectId}: ${d.created.length} created, ${d.updated.length} updated, ${d.removed.length} removed (run ${d.runId}).`,
        '',
        `See the records: ${link}/records/${d.objectId}`,
      );
      break;
    }
  }
  lines.push(
    '',
    `You get this email because the notification settings of ${tenantName} ask for it: ${link}/notifications`,
  );
  return { subject, text: lines.join('\n') };
}
