import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sendWelcomeEmail from '#tasks/send-welcome-email.ts';
import { createTestApp, projectRoot, type TestApp } from '../support/app.ts';
import { type SmtpServer, startSmtpServer } from '../support/smtp.ts';
import { signUp } from '../support/users.ts';

let smtp: SmtpServer;
let mailing: TestApp;
let logging: TestApp;
beforeAll(async () => {
  smtp = await startSmtpServer();
  // Own queue prefixes: the jobs that sign-up enqueues must not reach a worker another test file runs.
  const prefix = `wel${randomUUID().slice(0, 8)}`;
  mailing = await createTestApp({
    root: projectRoot,
    env: { SMTP_URL: smtp.url, MAIL_FROM: 'Kit <kit@sender.test>', RD_PREFIX: prefix },
  });
  logging = await createTestApp({ root: projectRoot, env: { RD_PREFIX: prefix } });
});
afterAll(async () => {
  await Promise.all([mailing?.close(), logging?.close()]);
  await smtp?.close();
});

const sentRows = (t: TestApp, userId: string) =>
  t.sql<{ kind: string; status: string; message_id: string | null; sent_at: Date | null }[]>`
    select kind, status, message_id, sent_at from sent_emails where user_id = ${userId}`;

describe('send-welcome-email', () => {
  it('sends the welcome to the account’s address through SMTP, with nothing the caller wrote but that address', async () => {
    // Anyone can sign anyone's address up, so the name must not reach the mail: it would make us the sender
    // of the caller's words (a link, an instruction) to a stranger.
    const lure = 'Your bank: verify at https://evil.example/login now';
    const user = await signUp(mailing, lure);
    const { result } = await mailing.runTask(sendWelcomeEmail, { userId: user.id });
    const [mail, ...more] = smtp.to(user.email);
    expect(more).toEqual([]);
    expect(mail?.from).toBe('kit@sender.test');
    expect(mail?.text).toContain('Subject: Welcome to handler-kit');
    expect(mail?.text).toContain(`An account was created for ${user.email}`);
    for (const piece of ['evil.example', 'Your bank', 'verify at']) expect(mail?.text).not.toContain(piece);
    const [row] = await sentRows(mailing, user.id);
    expect(row).toMatchObject({ kind: 'welcome', status: 'sent', sent_at: expect.any(Date) });
    expect(mail?.text).toContain(`Message-ID: ${row?.message_id}`);
    expect(result).toEqual({ sent: true, messageId: row?.message_id });
  });

  it('sends once when the job runs twice, one after the other or both at once', async () => {
    const first = await signUp(mailing, 'Twice');
    await mailing.runTask(sendWelcomeEmail, { userId: first.id });
    const again = await mailing.runTask(sendWelcomeEmail, { userId: first.id }, 2);
    expect(again.result).toMatchObject({ sent: false, reason: 'already sent' });
    expect(smtp.to(first.email)).toHaveLength(1);

    const second = await signUp(mailing, 'At once');
    const runs = await Promise.allSettled([
      mailing.runTask(sendWelcomeEmail, { userId: second.id }),
      mailing.runTask(sendWelcomeEmail, { userId: second.id }),
    ]);
    expect(
      runs.filter((run) => run.status === 'fulfilled' && (run.value.result as { sent: boolean }).sent),
    ).toHaveLength(1);
    expect(smtp.to(second.email)).toHaveLength(1);
    expect(await sentRows(mailing, second.id)).toEqual([expect.objectContaining({ status: 'sent' })]);
  });

  it('sends on the retry after the server refused the first try', async () => {
    const user = await signUp(mailing, 'Retry');
    smtp.refuseNext(user.email);
    await expect(mailing.runTask(sendWelcomeEmail, { userId: user.id })).rejects.toThrow(/451/);
    expect(await sentRows(mailing, user.id)).toEqual([expect.objectContaining({ status: 'sending' })]);
    await mailing.runTask(sendWelcomeEmail, { userId: user.id }, 2);
    expect(smtp.to(user.email)).toHaveLength(1);
    expect(await sentRows(mailing, user.id)).toEqual([expect.objectContaining({ status: 'sent' })]);
  });

  it('without SMTP_URL logs the message (no body) and records it as sent', async () => {
    const user = await signUp(logging, 'Grace Hopper');
    await logging.runTask(sendWelcomeEmail, { userId: user.id });
    const [row] = await sentRows(logging, user.id);
    expect(row).toMatchObject({ status: 'sent', message_id: expect.stringMatching(/^<.+@localhost>$/) });
    const lines = logging.logs.filter((line) => line.to === user.email);
    expect(lines).toEqual([
      expect.objectContaining({ subject: 'Welcome to handler-kit', messageId: row?.message_id }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('Grace');
    expect(smtp.to(user.email)).toEqual([]);
    const again = await logging.runTask(sendWelcomeEmail, { userId: user.id }, 2);
    expect(again.result).toMatchObject({ sent: false, reason: 'already sent' });
  });

  it('retries once when the account is not visible yet, as for a job enqueued before its commit', async () => {
    const user = await signUp(mailing, 'Early');
    await mailing.sql`delete from users where id = ${user.id}`;
    await expect(mailing.runTask(sendWelcomeEmail, { userId: user.id }, 1)).rejects.toThrow(
      /not visible yet/,
    );
  });

  it('finishes without sending or retrying when the account was deleted', async () => {
    const user = await signUp(mailing, 'Gone');
    await mailing.sql`delete from users where id = ${user.id}`;
    const { result } = await mailing.runTask(sendWelcomeEmail, { userId: user.id }, 2);
    expect(result).toEqual({ sent: false, reason: 'account deleted' });
    expect(smtp.to(user.email)).toEqual([]);
    expect(await sentRows(mailing, user.id)).toEqual([]);
  });
});
