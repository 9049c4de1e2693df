import { cp, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from './app.ts';

/** Copies nothing that a copy should not own: installed packages (linked instead), git, build output. */
const LEFT_OUT = /[\\/](node_modules|\.git|dist)$/;

/**
 * A copy of the project in a new temp folder, with `node_modules` linked to this one's, for tests that change a
 * project's files (scaffolds, an app of one's own, README snippets). `keep` narrows what is copied. The caller
 * removes the folder.
 */
export async function copyProject(
  name: string,
  keep: (source: string) => boolean = () => true,
): Promise<string> {
  const copy = await mkdtemp(path.join(tmpdir(), `${name}-`));
  await cp(projectRoot, copy, {
    recursive: true,
    filter: (source) => !LEFT_OUT.test(source) && keep(source),
  });
  await symlink(path.join(projectRoot, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  return copy;
}
