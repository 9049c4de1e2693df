// `?raw` imports a file's text (vitest natively; the build through its raw-text plugin), so that the runtime's
// migrations travel inside the bundles.
declare module '*.sql?raw' {
  const text: string;
  export default text;
}
