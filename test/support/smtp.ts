import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A message as the local SMTP server received it: the envelope and the raw RFC 5322 text. */
export type ReceivedMail = { from: string; to: string[]; raw: string };

/**
 * A real SMTP server on 127.0.0.1 and a free port that keeps every message it accepts. It offers no
 * STARTTLS, so clients talk plain SMTP, and takes any or no login.
 */
export async function startSmtpServer() {
  const received: ReceivedMail[] = [];
  const refusing = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (!refusing.delete(address.address)) return callback();
      callback(Object.assign(new Error('mailbox busy, try again'), { responseCode: 451 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    /** Messages sent to `address`, with quoted-printable soft line breaks undone so text can be searched. */
    to(address: string) {
      return received
        .filter((mail) => mail.to.includes(address))
        .map((mail) => ({ ...mail, text: mail.raw.replace(/=\r?\n/g, '') }));
    },
    /** Refuses the next message to `address` with a temporary failure, as a struggling server would. */
    refuseNext(address: string) {
      refusing.add(address);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type SmtpServer = Awaited<ReturnType<typeof startSmtpServer>>;
