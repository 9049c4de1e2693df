import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../build.mjs';
import { projectRoot } from './support/app.ts';
import { runCommand } from './support/commands.ts';
import { copyProject } from './support/project-copy.ts';

// Every ```ts snippet of the README is a whole module that names its file in its first line. It is written at
// that path into a copy of the project and type-checked by tsc with the project's tsconfig. The snippets of
// "Start an app of your own" go into a copy holding only what that section keeps, as a new app would.
const OWN_APP_SECTION = 'Start an app of your own';
/** What "Start an app of your own" says to keep, besides package.json's node_modules. */
const OWN_APP_KEEPS = ['shared/runtime', 'shared/build', 'build.mjs', 'package.json', 'tsconfig.json'];

type Snippet = { line: number; section: string; file: string | undefined; code: string };

let snippets: Snippet[];
const copies: string[] = [];

beforeAll(async () => {
  snippets = tsSnippets(await readFile(path.join(projectRoot, 'README.md'), 'utf8'));
});

afterAll(async () => {
  for (const copy of copies) await rm(copy, { recursive: true, force: true });
});

describe('README snippets', () => {
  it('each name the file they are in their first line', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(5);
    const unnamed = snippets
      .filter((snippet) => snippet.file === undefined)
      .map((s) => `README.md:${s.line}`);
    expect(unnamed, 'these snippets start with no `// <path>.ts` comment').toEqual([]);
  });

  it('compile, against the reference app and in an app of one’s own', async () => {
    const reference = await copyOf(() => true);
    const ownApp = await copyOf((source) => {
      const relative = path.relative(projectRoot, source).split(path.sep).join('/');
      return (
        relative === '' ||
        relative === 'shared' ||
        OWN_APP_KEEPS.some((kept) => relative === kept || relative.startsWith(`${kept}/`))
      );
    });
    const groups = [
      { root: reference, snippets: snippets.filter((snippet) => snippet.section !== OWN_APP_SECTION) },
      { root: ownApp, snippets: snippets.filter((snippet) => snippet.section === OWN_APP_SECTION) },
    ];
    expect(groups.map((group) => group.snippets.length > 0)).toEqual([true, true]);
    for (const group of groups) {
      for (const snippet of group.snippets) {
        const file = path.join(group.root, snippet.file as string);
        const taken = await access(file).then(
          () => true,
          () => false,
        );
        expect(taken, `README.md:${snippet.line} would replace ${snippet.file}; name a new file`).toBe(false);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, snippet.code);
      }
    }
    // The reference copy is built first: its typed client and the README's import the build's dist/openapi.d.ts.
    await build({ root: reference, outdir: path.join(reference, 'dist'), quiet: true });
    // The reference copy is checked whole (its shared/app.ts gives ctx its services); the own app's copy by its
    // snippets and what they import, so that what fails there is a snippet, not a file the copy kept.
    await writeFile(
      path.join(ownApp, 'tsconfig.snippets.json'),
      JSON.stringify({ extends: './tsconfig.json', include: groups[1]?.snippets.map((s) => s.file) }),
    );
    const [referenceCheck, ownAppCheck] = await Promise.all([
      tsc(reference, 'tsconfig.json'),
      tsc(ownApp, 'tsconfig.snippets.json'),
    ]);
    // --listFiles prints every file tsc checked, one absolute path a line; anything else is a diagnostic.
    const diagnostics = [referenceCheck, ownAppCheck].flatMap((check) =>
      check.output.split('\n').filter((line) => line !== '' && !path.isAbsolute(line)),
    );
    expect(diagnostics).toEqual([]);
    expect([referenceCheck.code, ownAppCheck.code]).toEqual([0, 0]);
    // Each snippet must be among the files checked, or the check proved nothing.
    for (const [group, check] of [
      [groups[0], referenceCheck],
      [groups[1], ownAppCheck],
    ] as const) {
      for (const snippet of group?.snippets ?? []) {
        expect(check.output).toContain(`${path.join(check.root, snippet.file as string)}\n`);
      }
    }
  }, 90_000);
});

/** The ```ts blocks of a markdown text (indented ones in lists too), with the `## ` section each is under. */
function tsSnippets(markdown: string): Snippet[] {
  const found: Snippet[] = [];
  let section = '';
  let open: { line: number; indent: string; lines: string[] } | undefined;
  for (const [index, line] of markdown.split('\n').entries()) {
    if (open) {
      if (line.trim() === '```') {
        const code = `${open.lines.map((text) => text.slice(open?.indent.length)).join('\n')}\n`;
        const file = /^\/\/ ([\w./[\]-]+\.ts)\b/.exec(code)?.[1];
        found.push({ line: open.line, section, file, code });
        open = undefined;
      } else open.lines.push(line);
      continue;
    }
    if (line.startsWith('## ')) section = line.slice(3).trim();
    const fence = /^(\s*)```ts\s*$/.exec(line);
    if (fence) open = { line: index + 1, indent: fence[1] ?? '', lines: [] };
  }
  return found;
}

async function copyOf(keep: (source: string) => boolean) {
  const copy = await copyProject('readme-snippets', keep);
  copies.push(copy);
  return copy;
}

/** tsc --noEmit --listFiles over a copy; output is stdout and stderr. */
async function tsc(root: string, project: string) {
  const bin = path.join(projectRoot, 'node_modules/typescript/bin/tsc');
  const result = await runCommand(
    process.execPath,
    [bin, '--noEmit', '--listFiles', '-p', path.join(root, project)],
    {
      cwd: root,
    },
  );
  return { root, ...result };
}
