import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { projectRoot } from '../../support/app.ts';
import { foreignImports } from '../../support/imports.ts';

const runtime = path.join(projectRoot, 'shared/runtime');

/** A copy of the runtime with one more file in it, removed when the test ends. */
async function runtimeWith(file: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'runtime-copy-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const copy = path.join(dir, 'shared/runtime');
  await cp(runtime, copy, { recursive: true });
  await writeFile(path.join(copy, file), text);
  return copy;
}

describe('shared/runtime/', () => {
  it('imports nothing outside itself but packages and node: built-ins', async () => {
    expect(await foreignImports(runtime)).toEqual([]);
  });

  it.each([
    ['a relative path out of the folder', "import { bearer } from '../bearer-auth.ts';\n"],
    ['an alias of the app', "import { Note } from '#shared/notes.ts';\n"],
    ['a type import of the app', "import type { Keyring } from '../keys.ts';\n"],
    ['a dynamic import', "export const load = () => import('../../tasks/export-notes.ts');\n"],
    ['a re-export', "export { createMailer } from '../mailer.ts';\n"],
  ])('is caught importing %s', async (_what, text) => {
    const copy = await runtimeWith('intruder.ts', text);
    expect(await foreignImports(copy)).toEqual([expect.stringMatching(/^intruder\.ts: /)]);
  });

  it('may import its own files and packages', async () => {
    const copy = await runtimeWith(
      'neighbour.ts',
      "import * as v from 'valibot';\nimport { createSql } from './db.ts';\nimport type { Runtime } from './compose.ts';\n",
    );
    expect(await foreignImports(copy)).toEqual([]);
  });
});
