import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailer } from '#shared/mailer.ts';
import { captureLog } from '../support/app.ts';
import { type SmtpServer, startSmtpServer } from '../support/smtp.ts';

let smtp: SmtpServer;
beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(() => smtp.close());

const message = (to: string) => ({
  to,
  subject: 'Hello there',
  text: 'text-body-secret',
  html: '<p>html-body-secret</p>',
});

describe('createMailer', () => {
  it('sends through SMTP_URL from MAIL_FROM and returns the message id the mail carries', async () => {
    const to = `mail-${randomUUID()}@example.test`;
    const { log, lines } = captureLog();
    const mailer = createMailer({ smtpUrl: smtp.url, from: 'Kit <kit@sender.test>' }, log);
    const { messageId } = await mailer.send(message(to));
    const [mail, ...more] = smtp.to(to);
    expect(more).toEqual([]);
    expect(mail?.from).toBe('kit@sender.test');
    expect(mail?.text).toContain(`Message-ID: ${messageId}`);
    expect(mail?.text).toContain('Subject: Hello there');
    expect(mail?.text).toContain('text-body-secret');
    expect(lines.find((line) => line.msg === 'mail sent')).toMatchObject({ to, messageId });
  });

  it('rejects when the server refuses the message', async () => {
    const to = `refused-${randomUUID()}@example.test`;
    smtp.refuseNext(to);
    const mailer = createMailer({ smtpUrl: smtp.url, from: 'kit@sender.test' }, captureLog().log);
    await expect(mailer.send(message(to))).rejects.toThrow(/451/);
    expect(smtp.to(to)).toEqual([]);
  });

  it('without SMTP_URL logs the recipient and subject, never the body, and makes up a message id', async () => {
    const to = `logged-${randomUUID()}@example.test`;
    const { log, lines } = captureLog();
    const mailer = createMailer({ smtpUrl: undefined, from: 'Kit <kit@sender.test>' }, log);
    const first = await mailer.send(message(to));
    const second = await mailer.send(message(to));
    expect(first.messageId).toMatch(/^<[0-9a-f-]{36}@sender\.test>$/);
    expect(second.messageId).not.toBe(first.messageId);
    const logged = lines.filter((line) => line.to === to);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ subject: 'Hello there', messageId: first.messageId, level: 30 });
    expect(JSON.stringify(lines)).not.toContain('body-secret');
    expect(smtp.to(to)).toEqual([]);
  });
});
