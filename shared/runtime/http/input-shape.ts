import { type FieldError, MAX_LISTED_ERRORS } from '../errors.ts';

/** How large a parsed input may be before a schema is run on it (INPUT_MAX_* in the configuration). */
export type InputLimits = { maxDepth: number; maxArrayItems: number; maxValues: number };

/**
 * What is wrong with the shape of a parsed input, found in one cheap pass before any schema runs: an array
 * longer than any schema should read, nesting too deep, too many values in all, or a string holding NUL
 * (which PostgreSQL cannot store in text). A schema would otherwise spend time on every item of a huge array
 * before its length check, and an error per item. At most MAX_LISTED_ERRORS problems are returned.
 */
export function inputShapeProblems(where: string, input: unknown, limits: InputLimits): FieldError[] {
  const problems: FieldError[] = [];
  const stack: [unknown, string, number][] = [[input, where, 0]];
  let values = 0;
  while (stack.length > 0 && problems.length < MAX_LISTED_ERRORS) {
    const [value, path, depth] = stack.pop() as [unknown, string, number];
    if (++values > limits.maxValues) {
      problems.push({ field: where, message: `holds more than ${limits.maxValues} values; send less` });
      break;
    }
    if (typeof value === 'string') {
      if (value.includes('\u0000')) problems.push({ field: path, message: 'must not contain NUL (\\u0000)' });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= limits.maxDepth) {
      problems.push({ field: path, message: `is nested more than ${limits.maxDepth} levels deep` });
      continue;
    }
    if (Array.isArray(value)) {
      if (value.length > limits.maxArrayItems) {
        problems.push({
          field: path,
          message: `holds ${value.length} items; no input may hold more than ${limits.maxArrayItems}`,
        });
        continue;
      }
      for (let index = value.length - 1; index >= 0; index--) {
        stack.push([value[index], `${path}.${index}`, depth + 1]);
      }
      continue;
    }
    const entries = Object.entries(value);
    for (let index = entries.length - 1; index >= 0; index--) {
      const [key, item] = entries[index] as [string, unknown];
      if (key.includes('\u0000')) {
        problems.push({ field: path, message: 'has a key that contains NUL (\\u0000)' });
        continue;
      }
      stack.push([item, `${path}.${key}`, depth + 1]);
    }
  }
  return problems;
}
