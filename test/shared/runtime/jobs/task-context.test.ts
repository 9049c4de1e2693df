import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Services } from '#runtime/app.ts';
import { JobLog, taskContexts } from '#runtime/jobs/task-context.ts';
import { captureLog } from '../../../support/app.ts';

function services(log: Logger) {
  return { sql: {}, redis: {}, log, enqueue: () => {}, settings: { region: 'eu' } } as unknown as Services;
}

/** A logger that counts the child loggers made from it. */
function countingChildren(log: Logger) {
  const made = { children: 0 };
  const child = log.child.bind(log);
  const counted = Object.create(log) as Logger;
  counted.child = ((...args: Parameters<Logger['child']>) => {
    made.children += 1;
    return child(...args);
  }) as Logger['child'];
  return { made, log: counted };
}

describe('JobLog', () => {
  it('writes the outcome line with the fields of a job logger, without making one', () => {
    const { lines, log } = captureLog();
    const { made, log: counted } = countingChildren(log);
    new JobLog(counted, 'mail', '7', 2, 'req-1').info({ durationMs: 1.5, outcome: 'succeeded' }, 'job');
    new JobLog(counted, 'mail', '8', 1, undefined).logger.info(
      { durationMs: 2, outcome: 'succeeded' },
      'job',
    );
    expect(made.children).toBe(1);
    const fields = lines.map(({ level, time, pid, hostname, ...rest }) => rest);
    expect(fields).toEqual([
      {
        task: 'mail',
        jobId: '7',
        attempt: 2,
        reqId: 'req-1',
        durationMs: 1.5,
        outcome: 'succeeded',
        msg: 'job',
      },
      { task: 'mail', jobId: '8', attempt: 1, durationMs: 2, outcome: 'succeeded', msg: 'job' },
    ]);
    // Same keys in the same order, whichever logger wrote the line.
    expect(Object.keys(fields[0] as object).filter((key) => key !== 'reqId')).toEqual(
      Object.keys(fields[1] as object),
    );
  });

  it('writes through the job logger once something made it', () => {
    const { lines, log } = captureLog();
    const { made, log: counted } = countingChildren(log);
    const jobLog = new JobLog(counted, 'mail', '9', 1, undefined);
    jobLog.logger.warn('first');
    jobLog.info({ outcome: 'succeeded' }, 'job');
    expect(made.children).toBe(1);
    expect(lines.at(-1)).toMatchObject({ task: 'mail', jobId: '9', attempt: 1, outcome: 'succeeded' });
  });
});

describe('taskContexts', () => {
  it('gives each job the services and its own fields, with log and signal read when the task reads them', () => {
    const { lines, log } = captureLog();
    const { made, log: counted } = countingChildren(log);
    const s = services(counted);
    const make = taskContexts(s);
    expect(taskContexts(s)).toBe(make);
    let signals = 0;
    const controller = new AbortController();
    const signal = () => {
      signals += 1;
      return controller.signal;
    };
    const progress = async () => {};
    const ctx = make(new JobLog(counted, 'mail', '3', 1, 'req-3'), { to: 'a@b.c' }, progress, signal);
    expect(ctx).toMatchObject({
      settings: { region: 'eu' },
      payload: { to: 'a@b.c' },
      jobId: '3',
      task: 'mail',
      attempt: 1,
      progress,
    });
    expect(made.children).toBe(0);
    expect(signals).toBe(0);

    ctx.log.info('from the task');
    expect(ctx.signal).toBe(controller.signal);
    expect(made.children).toBe(1);
    expect(signals).toBe(1);
    expect(lines.at(-1)).toMatchObject({ task: 'mail', jobId: '3', reqId: 'req-3', msg: 'from the task' });
  });

  it('keeps every field an own enumerable property, so that a task may spread its ctx', () => {
    const { log } = captureLog();
    const s = services(log);
    const controller = new AbortController();
    const ctx = taskContexts(s)(
      new JobLog(log, 'mail', '4', 1, undefined),
      {},
      async () => {},
      () => controller.signal,
    );
    const spread = { ...ctx };
    expect(Object.keys(spread).sort()).toEqual(
      [
        'sql',
        'redis',
        'log',
        'enqueue',
        'settings',
        'payload',
        'jobId',
        'task',
        'attempt',
        'progress',
        'signal',
      ].sort(),
    );
    expect(spread.signal).toBe(controller.signal);
    expect(spread.log).toBe(ctx.log);
  });
});
