import * as v from 'valibot';
import { defineTask } from '#runtime/jobs/task.ts';

const KIND = 'welcome';

export default defineTask({
  description: 'Sends the welcome email to a new account, once',
  payload: v.object({
    userId: v.pipe(
      v.string(),
      v.uuid(),
      v.description('The account that was just created'),
      v.examples(['0b9f4c2e-6d1a-4f57-9a8e-3c1d2b7e5f10']),
    ),
  }),
  retries: 5,
  backoff: { strategy: 'exponential', delayMs: 2_000 },
  timeoutMs: 30_000,
  concurrency: 4,
  async run({ payload, sql, mailer, log, attempt }) {
    const [user] = await sql<{ email: string }[]>`select email from users where id = ${payload.userId}`;
    if (!user && attempt === 1) {
      // Sign-up enqueues through the outbox, after its commit. This guard stays for a job that reached Redis
      // before its transaction committed (enqueued straight to Redis, as before the outbox): one retry.
      throw new Error('the account is not visible yet; retrying');
    }
    if (!user) {
      // Still missing on a retry: the account was deleted before its welcome went out; nobody to welcome.
      log.info({ userId: payload.userId }, 'welcome email skipped: the account no longer exists');
      return { sent: false, reason: 'account deleted' };
    }
    await sql`
      insert into sent_emails (user_id, kind, status) values (${payload.userId}, ${KIND}, 'sending')
      on conflict (user_id, kind) do nothing`;

    // The row lock is held across the SMTP exchange so that two runs of the job at once (a stalled job run
    // again, a retry after a timeout while the first send still hangs) cannot both send: the second sees the
    // row locked and retries later, by which time it reads 'sent'. One window remains: the server accepts
    // the message and the process dies (or Postgres goes away) before the 'sent' update commits. The retry
    // then sends again, so delivery is at least once, never lost.
    return sql.begin(async (tx) => {
      const [claim] = await tx<{ status: 'sending' | 'sent'; message_id: string | null }[]>`
        select status, message_id from sent_emails where user_id = ${payload.userId} and kind = ${KIND}
        for update skip locked`;
      if (!claim) throw new Error('another run is sending this welcome email; retrying later');
      if (claim.status === 'sent') {
        log.info({ messageId: claim.message_id }, 'welcome email already sent');
        return { sent: false, reason: 'already sent', messageId: claim.message_id };
      }
      const { messageId } = await mailer.send(welcome(user), log);
      await tx`
        update sent_emails set status = 'sent', message_id = ${messageId}, sent_at = now()
        where user_id = ${payload.userId} and kind = ${KIND}`;
      return { sent: true, messageId };
    });
  },
});

// Sign-up does not prove that the caller owns the address, so anyone can have this mail sent to anyone. It
// therefore carries nothing the caller wrote but the address it goes to (not the name, which the app shows
// instead): a fixed text cannot be turned into our message to a stranger, with the caller's link or words.
function welcome(user: { email: string }) {
  return {
    to: user.email,
    subject: 'Welcome to handler-kit',
    text:
      `Hi,\n\nAn account was created for ${user.email} and is ready. Welcome aboard.\n\n` +
      'If you did not sign up, you can ignore this message.\n',
    html:
      `<p>Hi,</p><p>An account was created for ${escapeHtml(user.email)} and is ready. Welcome aboard.</p>` +
      '<p>If you did not sign up, you can ignore this message.</p>',
  };
}

function escapeHtml(text: string): string {
  const entities: Record<string, string> = {
    '&': '&amp;',
    '<': '&lt;',
    '>': '&gt;',
    '"': '&quot;',
    "'": '&#39;',
  };
  return text.replace(/[&<>"']/g, (char) => entities[char] ?? char);
}
