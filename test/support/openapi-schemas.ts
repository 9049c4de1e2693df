import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

// biome-ignore lint/suspicious/noExplicitAny: the checks walk an OpenAPI document of known shape
type Json = Record<string, any>;

/**
 * Validates values against the schemas of an OpenAPI 3.1 document, each named by its JSON Pointer
 * (`/components/schemas/Note`), with the document's `$ref`s resolved in place and its formats checked.
 * Returns what is wrong, or nothing.
 */
export function schemaValidator(document: Json): (pointer: string, value: unknown) => string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  ajv.addFormat(
    'date-time',
    (text: string) => /^\d{4}-\d\d-\d\dT/.test(text) && !Number.isNaN(Date.parse(text)),
  );
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
  ajv.addFormat('uri', (text: string) => URL.canParse(text));
  ajv.addFormat('uri-reference', (text: string) => URL.canParse(text, 'http://base.invalid/'));
  ajv.addSchema(document, 'openapi');
  const compiled = new Map<string, ValidateFunction>();
  return (pointer, value) => {
    const validate = compiled.get(pointer) ?? ajv.compile({ $ref: `openapi#${pointer}` });
    compiled.set(pointer, validate);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message}`);
  };
}

/** Every schema in a document that carries `examples`, by JSON Pointer, with its examples. */
export function schemasWithExamples(document: Json): { pointer: string; examples: unknown[] }[] {
  const found: { pointer: string; examples: unknown[] }[] = [];
  const walk = (node: unknown, pointer: string) => {
    if (node === null || typeof node !== 'object') return;
    // A schema's `examples` is an array; a media type's is a map of Example Objects (this document has none).
    if (Array.isArray((node as Json).examples)) found.push({ pointer, examples: (node as Json).examples });
    for (const [key, child] of Object.entries(node)) {
      // Example values are data, not schemas.
      if (key === 'examples' || key === 'example') continue;
      walk(child, `${pointer}/${encodeURIComponent(key.replaceAll('~', '~0').replaceAll('/', '~1'))}`);
    }
  };
  walk(document, '');
  return found;
}
