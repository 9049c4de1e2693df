import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../build.mjs';
import { projectRoot } from './support/app.ts';
import { schemasWithExamples, schemaValidator } from './support/openapi-schemas.ts';

// biome-ignore lint/suspicious/noExplicitAny: the tests read an OpenAPI document of known shape
type Json = Record<string, any>;

// Both linters run offline and stop within this; each states its exceptions, with reasons, in its config file.
const LINT_TIMEOUT_MS = 60_000;
const OFFLINE = { REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_UPDATE_NOTIFIER: '1' };

let outdir: string;
let documentFile: string;
let document: Json;

beforeAll(async () => {
  // Laid out as the project is, so that the exceptions keyed `dist/openapi.json` apply to this build's document.
  outdir = await mkdtemp(path.join(os.tmpdir(), 'openapi-lint-'));
  await build({ outdir: path.join(outdir, 'dist'), quiet: true });
  for (const file of ['redocly.yaml', '.redocly.lint-ignore.yaml', '.spectral.yaml']) {
    await copyFile(path.join(projectRoot, file), path.join(outdir, file));
  }
  documentFile = path.join(outdir, 'dist/openapi.json');
  document = JSON.parse(await readFile(documentFile, 'utf8'));
}, 60_000);

afterAll(async () => {
  if (outdir) await rm(outdir, { recursive: true, force: true });
});

describe("the reference app's OpenAPI document", () => {
  it('passes `redocly lint` (recommended, with the exceptions redocly.yaml and .redocly.lint-ignore.yaml give) with no error or warning', async () => {
    const { stdout } = await lint('redocly', [
      'lint',
      '--config',
      path.join(outdir, 'redocly.yaml'),
      '--format',
      'json',
      documentFile,
    ]);
    const report = JSON.parse(stdout) as { problems: Json[] };
    const problems = report.problems.map(
      (p) => `${p.severity} ${p.ruleId} ${p.location?.[0]?.pointer}: ${p.message}`,
    );
    expect(problems).toEqual([]);
  });

  it('passes `spectral lint` (spectral:oas, with the exceptions .spectral.yaml gives) with no error or warning', async () => {
    const { stdout } = await lint('spectral', [
      'lint',
      '-r',
      path.join(outdir, '.spectral.yaml'),
      '-f',
      'json',
      '-q',
      documentFile,
    ]);
    const results = stdout.trim() === '' ? [] : (JSON.parse(stdout) as Json[]);
    expect(results.map((r) => `${r.code} ${r.path.join('.')}: ${r.message}`)).toEqual([]);
  });

  it('has examples that are real values: each passes the schema it illustrates', () => {
    const validate = schemaValidator(document);
    // The check can fail: a note with a number for its id does not pass.
    expect(validate('/components/schemas/Note', { id: 1 })).not.toEqual([]);
    const found = schemasWithExamples(document);
    // Note, TokenPair, Problem, the limit query parameter and more carry examples.
    expect(found.length).toBeGreaterThan(20);
    const wrong = found.flatMap(({ pointer, examples }) =>
      examples.flatMap((example, index) =>
        validate(pointer, example).map((problem) => `${pointer}/examples/${index}${problem}`),
      ),
    );
    expect(wrong).toEqual([]);
  });

  it('names the shared shapes as components, with a real 404 as the problem example', () => {
    const schemas = Object.keys(document.components.schemas);
    expect(schemas).toEqual(
      expect.arrayContaining(['Note', 'NotePage', 'Job', 'TokenPair', 'User', 'ExportAccepted', 'Problem']),
    );
    expect(document.components.schemas.Problem.examples).toEqual([
      expect.objectContaining({ status: 404, code: 'not_found', requestId: expect.any(String) }),
    ]);
    const limit = document.paths['/notes'].get.parameters.find((p: Json) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 20 });
  });
});

/** Runs a linter's bin from node_modules in the build's folder; a finding exits non-zero, which is no failure here. */
function lint(bin: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      path.join(projectRoot, 'node_modules/.bin', bin),
      args,
      {
        cwd: outdir,
        env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...OFFLINE },
        timeout: LINT_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error && (error.killed || typeof error.code !== 'number')) {
          reject(new Error(`${bin} did not finish within ${LINT_TIMEOUT_MS} ms: ${stderr}`));
        } else resolve({ stdout, stderr });
      },
    );
  });
}
