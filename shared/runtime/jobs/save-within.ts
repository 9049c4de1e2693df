import type BeeQueue from 'bee-queue';
import { HttpError } from '../errors.ts';
import { saveNow } from './bee-queue-patches.ts';
import { deadlinesOf } from './deadlines.ts';
import type { JobEnvelope } from './queue.ts';

/**
 * Saves once the queue has connected, and never starts after the deadline: a save that began after the caller
 * was told 503 could still add the job. A save that began in time but lands after the deadline (the caller was
 * told 503 meanwhile) is taken back, so that a refused job does not run. The deadlines of every save share one
 * timer (see deadlines.ts): a timer per enqueue cost more than the rest of our enqueue path. Resolves with the
 * job's id, and rejects with the 503 the caller is given: one promise between the save and the caller.
 */
export function saveWithin(
  job: BeeQueue.Job<JobEnvelope>,
  ms: number,
  task: string,
): Promise<{ id: string }> {
  // Decided once: whichever of the save and the deadline comes first is the caller's answer.
  let answer: 'saved' | 'refused' | undefined;
  const givenId = job.id;
  return new Promise<{ id: string }>((resolve, reject) => {
    const list = deadlinesOf(ms);
    const deadline = list.set(() => {
      answer ??= 'refused';
      reject(unavailable(tooLate(task, ms)));
    });
    const save = () => {
      if (answer) throw tooLate(task, ms);
      return saveNow(job);
    };
    // A connected queue saves at once, without waiting a turn for its ready promise.
    const saving = isReady(job.queue) ? tryNow(save) : job.queue.ready().then(save);
    saving.then(
      (saved) => {
        if (answer === 'refused') {
          saved.remove().catch(() => {});
          return;
        }
        answer = 'saved';
        list.clear(deadline);
        // bee-queue answers no id for a job whose id was given and already exists.
        resolve({ id: String(saved.id ?? givenId) });
      },
      (error: unknown) => {
        if (answer) return;
        answer = 'refused';
        list.clear(deadline);
        reject(unavailable(error));
      },
    );
  });
}

function unavailable(error: unknown): HttpError {
  return HttpError.unavailable(
    `The job queue is unavailable (${(error as Error).message}). Try again shortly.`,
    2,
  );
}

function tooLate(task: string, ms: number): Error {
  return new Error(`Redis did not take the ${task} job within ${ms} ms`);
}

function isReady(queue: BeeQueue): boolean {
  return (queue as unknown as { _isReady?: boolean })._isReady === true;
}

function tryNow<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error);
  }
}
