/** One value stays a string and repeated keys become an array, so `?tag=a&tag=b` reads naturally. */
export function queryObject(queries: Record<string, string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, values] of Object.entries(queries)) {
    out[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return out;
}
