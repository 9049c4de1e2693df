import { execFileSync } from 'node:child_process';
import { access, mkdir, readdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DiscoveryError, discover, routeOf, taskNameOf } from './discovery.mjs';
import { handlerFiles, migrationFile, taskFiles } from './new-templates.mjs';

// `npm run new <kind> <name>`: writes a handler, a task or a migration (and a test for the first two) in the
// project's shape, refusing what the build or the migration ledger would refuse.
const USAGE = `usage: npm run new handler <path>.<method>   e.g. npm run new handler notes/[id]/archive.post
       npm run new task <name>             e.g. npm run new task notes/archive
       npm run new migration <name>        e.g. npm run new migration add-archived-at`;

/** The migration ledger's rule for a file name (shared/runtime/migrations.ts, MIGRATION_NAME). */
const MIGRATION_NAME = /^\d{4}_[a-z0-9][a-z0-9_-]*\.sql$/;

/** An argument error: exit 2 with the usage. */
class UsageError extends Error {}
/** A name or a file the scaffold refuses: exit 1. */
class Refusal extends Error {}

const root = process.cwd();

try {
  const written = await scaffold(process.argv.slice(2));
  for (const file of written) process.stdout.write(`created ${file}\n`);
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`npm run new: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (error instanceof Refusal) {
    process.stderr.write(`npm run new: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

/** @param {string[]} args */
async function scaffold(args) {
  const [kind, name, ...extra] = args;
  if (kind === undefined) throw new UsageError('say what to make: handler, task or migration');
  if (!['handler', 'task', 'migration'].includes(kind)) {
    throw new UsageError(`unknown kind "${kind}"; use handler, task or migration`);
  }
  if (name === undefined || name === '') throw new UsageError(`name the ${kind} to make`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"; give one name`);
  if (kind === 'migration') return writeAll([{ file: await nextMigration(name), text: migrationFile(name) }]);
  if (kind === 'handler') {
    const file = `handlers/${name.replace(/^handlers\//, '').replace(/\.ts$/, '')}.ts`;
    refuseHelperName(file);
    const route = routeOf(file);
    if (typeof route === 'string') throw new Refusal(route);
    return writeChecked(file, handlerFiles(file, route));
  }
  const file = `tasks/${name.replace(/^tasks\//, '').replace(/\.ts$/, '')}.ts`;
  refuseHelperName(file);
  const taskName = taskNameOf(file);
  if (taskName.startsWith('!')) throw new Refusal(taskName.slice(1));
  return writeChecked(file, taskFiles(file, taskName));
}

/**
 * Writes a handler or task and its test, then runs the build's discovery over the tree, so that what the build
 * would refuse beyond the name (a route another file claims) is refused too, and the files are taken back.
 * @param {string} file
 * @param {{ file: string, text: string }[]} files
 */
async function writeChecked(file, files) {
  const before = await problemsOf();
  const written = await writeAll(files);
  const after = (await problemsOf()).filter((problem) => !before.includes(problem) && problem.includes(file));
  if (after.length > 0) {
    await Promise.all(written.map((each) => unlink(path.join(root, each))));
    throw new Refusal(after.join('; '));
  }
  return written;
}

/** The problems the build's discovery finds in the tree, none when it builds. */
async function problemsOf() {
  try {
    await discover(root);
    return [];
  } catch (error) {
    if (error instanceof DiscoveryError) return /** @type {string[]} */ (error.problems);
    throw error;
  }
}

/** @param {{ file: string, text: string }[]} files */
async function writeAll(files) {
  for (const { file } of files) {
    if (await exists(path.join(root, file))) {
      throw new Refusal(`${file} already exists; pick another name or edit that file`);
    }
  }
  for (const { file, text } of files) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text, { flag: 'wx' });
  }
  return files.map(({ file }) => file);
}

/** A name under a `_` folder or file is a helper, which discovery skips: it would never be a route or task. */
function refuseHelperName(/** @type {string} */ file) {
  if (file.split('/').some((part) => part.startsWith('_'))) {
    throw new Refusal(`${file}: a name starting with _ is a helper, not a route or task; drop the _`);
  }
  if (/\.(test|spec)\.ts$/.test(file)) {
    throw new Refusal(`${file}: a .test.ts file is a test, not a route or task; drop .test`);
  }
}

/**
 * `sql/NNNN_<name>.sql` with the number after the highest ever used: the highest in sql/ and, where git is at
 * hand, in every file git ever recorded under sql/. A deleted migration's number may still be in a database's
 * ledger, so it is never handed out again.
 * @param {string} name
 */
async function nextMigration(name) {
  const numbers = [...(await readdir(path.join(root, 'sql')).catch(() => [])), ...sqlFilesInGit()]
    .map((entry) => /^(\d{4})_/.exec(path.basename(entry))?.[1])
    .filter((number) => number !== undefined)
    .map(Number);
  const next = Math.max(0, ...numbers) + 1;
  const file = `${String(next).padStart(4, '0')}_${name}.sql`;
  if (next > 9999) throw new Refusal('sql/ has used every number up to 9999');
  if (!MIGRATION_NAME.test(file)) {
    throw new Refusal(
      `sql/${file}: a migration is named in lowercase letters, digits, - and _ (e.g. add-archived-at), starting with a letter or digit`,
    );
  }
  return `sql/${file}`;
}

/** Paths of every sql/ file in the repository's history, or none outside a git work tree. */
function sqlFilesInGit() {
  try {
    const out = execFileSync('git', ['log', '--all', '--format=', '--name-only', '--', 'sql'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('\n').filter((line) => line.endsWith('.sql'));
  } catch {
    return [];
  }
}

/** @param {string} file */
function exists(file) {
  return access(file).then(
    () => true,
    () => false,
  );
}
