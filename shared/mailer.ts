import { randomUUID } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';

/** One outgoing message; the sender is MAIL_FROM. */
export type MailMessage = { to: string; subject: string; text: string; html: string };

/** SMTP_URL (unset: mail is logged, not sent) and MAIL_FROM. */
export type MailSettings = { smtpUrl?: string; from: string };

/**
 * Sends mail; resolves once the server (or the log) has taken the message. `log` is the caller's (a job's),
 * so that the mail's log line carries its bindings; the mailer's own logger otherwise.
 */
export type Mailer = { send(message: MailMessage, log?: Logger): Promise<{ messageId: string }> };

// Bounded well inside a task's timeout, so a stalled server fails the attempt instead of holding it for
// nodemailer's defaults (minutes).
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 15_000 };

const transports = new Map<string, Transporter>();

/**
 * The mailer for `config`: SMTP through nodemailer when SMTP_URL is set, otherwise one that logs who the
 * message is for and its subject (never its body) and makes up a message id. The SMTP transport is created
 * on first use and kept for the process, one per URL.
 */
export function createMailer(config: MailSettings, processLog: Logger): Mailer {
  const { smtpUrl, from } = config;
  if (!smtpUrl) {
    return {
      async send(message, log = processLog) {
        const messageId = `<${randomUUID()}@${domainOf(from)}>`;
        log.info(
          { to: message.to, subject: message.subject, messageId },
          'mail not sent (no SMTP_URL): logged',
        );
        return { messageId };
      },
    };
  }
  return {
    async send(message, log = processLog) {
      const info = await transportFor(smtpUrl).sendMail({ from, ...message });
      log.info({ to: message.to, subject: message.subject, messageId: info.messageId }, 'mail sent');
      return { messageId: info.messageId };
    },
  };
}

function transportFor(url: string): Transporter {
  let transport = transports.get(url);
  if (!transport) {
    transport = nodemailer.createTransport({ url, ...TIMEOUTS });
    transports.set(url, transport);
  }
  return transport;
}

/** The domain of `Name <user@domain>` or `user@domain`, for made-up message ids. */
function domainOf(address: string): string {
  return /@([^>\s]+)>?\s*$/.exec(address)?.[1] ?? 'localhost';
}
