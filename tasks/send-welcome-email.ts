import * as v from 'valibot';
import { defineTask } from '../shared/task.ts';

export default defineTask({
  description: 'Sends the welcome email to a new account, once',
  payload: v.object({ userId: v.pipe(v.string(), v.uuid()) }),
  retries: 5,
  backoff: { strategy: 'exponential', delayMs: 2_000 },
  timeoutMs: 30_000,
  concurrency: 4,
  async run() {
    // Filled in with the mail transport.
  },
});
