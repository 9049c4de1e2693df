import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchedLines } from '#runtime/log-destination.ts';

// Exiting, uncaught exceptions and SIGKILL are proven on a real process in log.test.ts; these watch a file.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'log-destination-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function destinationOnFile(name: string) {
  const file = path.join(dir, name);
  const fd = openSync(file, 'w');
  return { lines: new BatchedLines(fd), read: () => readFileSync(file, 'utf8'), close: () => closeSync(fd) };
}

describe('BatchedLines', () => {
  it('holds a few lines back, then writes them in order within a tenth of a second', async () => {
    const { lines, read, close } = destinationOnFile('late.log');
    try {
      lines.write('one\n');
      lines.write('two\n');
      expect(read()).toBe('');
      await expect.poll(read, { timeout: 1_000, interval: 10 }).toBe('one\ntwo\n');
    } finally {
      close();
    }
  });

  it('writes at once when a batch is full, and when asked to', () => {
    const { lines, read, close } = destinationOnFile('full.log');
    try {
      const line = `${'x'.repeat(99)}\n`;
      for (let i = 0; i < 100; i++) lines.write(line);
      // 10,000 characters: the first 82 lines made a batch of 8,200 and were written then.
      expect(read()).toBe(line.repeat(82));
      lines.write('the last word\n');
      lines.flushSync();
      expect(read()).toBe(`${line.repeat(100)}the last word\n`);
    } finally {
      close();
    }
  });

  it('keeps text whole whatever its characters', () => {
    const { lines, read, close } = destinationOnFile('utf8.log');
    try {
      lines.write('Zoë 😀 née\n');
      lines.flush();
      expect(read()).toBe('Zoë 😀 née\n');
    } finally {
      close();
    }
  });
});
