import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const SOURCE = /\.(ts|mts|mjs|js)$/;
// Static imports and re-exports, side-effect imports, dynamic imports, and JSDoc/TS type imports.
const SPECIFIERS = [
  /\b(?:import|export)\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\bdeclare\s+module\s+['"]([^'"]+)['"]/g,
];

/**
 * Every import under `dir` that reaches outside it: a relative path that leaves the folder, or an alias of
 * the project's (`#shared/...`, `#tasks/...`; even `#runtime/...`, which inside the runtime should be a
 * relative path). Packages and `node:` built-ins are fine. Each entry reads `file: specifier`.
 */
export async function foreignImports(dir: string): Promise<string[]> {
  const root = path.resolve(dir);
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !SOURCE.test(entry.name)) continue;
    const file = path.join(entry.parentPath, entry.name);
    // Comments may show imports as examples (the JSDoc of defineApp does): only code counts.
    const text = (await readFile(file, 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const pattern of SPECIFIERS) {
      for (const [, specifier] of text.matchAll(pattern)) {
        if (!specifier || !isForeign(root, file, specifier)) continue;
        found.push(`${path.relative(root, file)}: ${specifier}`);
      }
    }
  }
  return found.sort();
}

function isForeign(root: string, file: string, specifier: string): boolean {
  if (specifier.startsWith('#')) return true;
  if (!specifier.startsWith('.') && !path.isAbsolute(specifier)) return false;
  const target = path.resolve(path.dirname(file), specifier.replace(/\?raw$/, ''));
  return target !== root && !target.startsWith(root + path.sep);
}
