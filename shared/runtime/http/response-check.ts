import * as v from 'valibot';
import { fieldErrors, HttpError } from '../errors.ts';
import { type AnyHandler, responseSchema } from './handler.ts';

/**
 * A check of every JSON answer against the schema its handler documents, for development and test runs
 * (CHECK_RESPONSES): a handler whose answer drifts from its contract fails there, not in a client. The value is
 * checked as it goes on the wire, after JSON encoding, so a Date or an undefined field counts as what it becomes.
 * Returns nothing for a handler with no schema for `status`.
 */
export function responseChecker(definition: AnyHandler, status: number) {
  const schema = responseSchema(definition.responses?.[status]);
  if (!schema) return undefined;
  return (body: unknown): void => {
    const sent = body === undefined ? null : JSON.parse(JSON.stringify(body));
    const result = v.safeParse(schema, sent);
    if (result.success) return;
    const problems = fieldErrors('response', result.issues)
      .slice(0, 5)
      .map(({ field, message }) => `${field}: ${message}`);
    throw new HttpError(
      500,
      'response_mismatch',
      `The handler's answer does not match its documented ${status} schema (${problems.join('; ')}). ` +
        'Fix the handler or its responses; this check runs outside production (CHECK_RESPONSES).',
    );
  };
}
