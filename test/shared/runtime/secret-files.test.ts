import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError, loadConfig } from '#runtime/config.ts';

const minimal = { PG_HOST: 'db', POSTGRES_USER: 'app', POSTGRES_DB: 'app', RD_HOST: 'cache' };

async function secretFile(content: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'secret-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'secret');
  await writeFile(file, content);
  return file;
}

describe('secrets from files', () => {
  it('reads POSTGRES_PASSWORD_FILE and RD_PASSWORD_FILE, without the final newline', async () => {
    const config = loadConfig({
      ...minimal,
      APP_ENV: 'production',
      POSTGRES_PASSWORD_FILE: await secretFile('pg-from-file-9x\n'),
      RD_PASSWORD_FILE: await secretFile('rd-from-file-4k'),
    });
    expect(config.postgres.password).toBe('pg-from-file-9x');
    expect(config.redis.password).toBe('rd-from-file-4k');
  });

  it('refuses a file it cannot read and both forms at once, naming each', async () => {
    const error = (() => {
      try {
        loadConfig({
          ...minimal,
          POSTGRES_PASSWORD_FILE: '/no/such/secret',
          RD_PASSWORD: 'x',
          RD_PASSWORD_FILE: '/x',
        });
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems).toEqual([
      'POSTGRES_PASSWORD_FILE: cannot read /no/such/secret (ENOENT)',
      'RD_PASSWORD_FILE: set either RD_PASSWORD or RD_PASSWORD_FILE, not both',
    ]);
  });
});
