import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../../support/app.ts';
import { runCommand } from '../../../support/commands.ts';

const fixtures = path.join(projectRoot, 'test/fixtures/typecheck');

/** Compiles the typecheck fixtures on their own; returns each error's file, line and text. */
async function compileFixtures() {
  const tsc = path.join(projectRoot, 'node_modules/typescript/bin/tsc');
  const result = await runCommand(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', fixtures], {
    cwd: projectRoot,
  });
  expect(result.code).not.toBe(0);
  return [...result.output.matchAll(/^(?:.*\/)?([\w-]+\.ts)\((\d+),\d+\): error (TS\d+): (.*)$/gm)].map(
    ([, file, line, code, text]) => ({ file, line: Number(line), code, text: text ?? '' }),
  );
}

/** The line ranges of a fixture's `export const name = defineHandler({ ... });` blocks. */
async function handlerBlocks(file: string) {
  const lines = (await readFile(path.join(fixtures, file), 'utf8')).split('\n');
  const starts = lines.flatMap((line, index) => {
    const name = /^export const (\w+) = defineHandler/.exec(line)?.[1];
    return name ? [{ name, from: index + 1 }] : [];
  });
  return starts.map((block, index) => ({ ...block, to: (starts[index + 1]?.from ?? lines.length + 1) - 1 }));
}

describe('the compile-time response contract', () => {
  it('refuses every handler whose answer or header breaks its declared responses, and only those', async () => {
    const errors = await compileFixtures();
    expect(errors.filter((error) => error.file !== 'response-mismatch.ts')).toEqual([]);
    const blocks = await handlerBlocks('response-mismatch.ts');
    expect(blocks.map((block) => block.name)).toEqual([
      'wrongField',
      'wrongStatusBody',
      'bodyOn204',
      'undeclaredHeader',
    ]);
    for (const block of blocks) {
      const inBlock = errors.filter((error) => error.line >= block.from && error.line <= block.to);
      expect(inBlock.length, `${block.name} must not compile`).toBeGreaterThan(0);
      expect(inBlock.every((error) => error.code === 'TS2322' || error.code === 'TS2345')).toBe(true);
    }
    expect(errors.find((error) => error.line <= (blocks[0]?.to ?? 0))?.text).toMatch(
      /'number' is not assignable to type 'string'/,
    );
    expect(errors.some((error) => /"X-Secret-Header"/.test(error.text))).toBe(true);
  }, 60_000);
});
