import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, startTestWorker, type TestApp } from '../../../support/app.ts';
import { signUp } from '../../../support/users.ts';

let fixture: TestApp;
let reference: TestApp;
beforeAll(async () => {
  fixture = await createTestApp({ env: { RD_PREFIX: `ri${randomUUID().slice(0, 8)}` } });
  reference = await createTestApp({ root: projectRoot, env: { RD_PREFIX: `rr${randomUUID().slice(0, 8)}` } });
});
afterAll(async () => {
  await fixture?.close();
  await reference?.close();
});

const poll = { timeout: 15_000, interval: 100 };

describe("a job's log lines", () => {
  it('carry the id of the request that enqueued the job', async () => {
    const worker = await startTestWorker(['record-item'], {
      env: { RD_PREFIX: fixture.config.redis.prefix },
    });
    try {
      const response = await fixture.request('POST', '/items', {
        body: { name: `r-${randomUUID()}`, qty: 1 },
      });
      const requestId = response.headers.get('x-request-id');
      const { jobId } = (await response.json()) as { jobId: string };
      await expect
        .poll(() => worker.logs.find((line) => line.msg === 'job' && line.jobId === jobId), poll)
        .toMatchObject({ reqId: requestId, outcome: 'succeeded' });
    } finally {
      await worker.close(2_000);
    }
  });

  it('carry it through the outbox too', async () => {
    const worker = await startTestWorker(['export-notes'], {
      root: projectRoot,
      env: { RD_PREFIX: reference.config.redis.prefix },
    });
    try {
      const user = await signUp(reference);
      const response = await reference.request('POST', '/notes/exports', {
        body: { format: 'csv' },
        headers: user.headers,
      });
      expect(response.status).toBe(202);
      const requestId = response.headers.get('x-request-id');
      const { id } = (await response.json()) as { id: string };
      await expect
        .poll(() => worker.logs.find((line) => line.msg === 'job' && line.jobId === id), poll)
        .toMatchObject({ reqId: requestId });
    } finally {
      await worker.close(2_000);
    }
  });
});
