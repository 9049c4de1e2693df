import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { HttpError, validationError } from '../errors.ts';
import { queryObject } from './query-object.ts';
import { headerOf } from './request-scope.ts';

/** Reads a JSON body, answering 415 for another media type and 400 for JSON that does not parse. */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await bodyText(c, /^application\/([a-z0-9.+-]+\+)?json\b/i, 'JSON', 'application/json');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'malformed_json', `The body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Reads a form body (`a=1&b=2`): each field a string, a repeated field an array, as the query is read. */
export async function formBody(c: Context): Promise<unknown> {
  const text = await bodyText(
    c,
    /^application\/x-www-form-urlencoded\b/i,
    'form-encoded',
    'application/x-www-form-urlencoded',
  );
  const fields: Record<string, string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const values = fields[key] ?? [];
    values.push(value);
    fields[key] = values;
  }
  return queryObject(fields);
}

/** The body's text, after checking there is one and its media type is `accepted`. */
async function bodyText(c: Context, accepted: RegExp, what: string, mediaType: string): Promise<string> {
  const type = headerOf(c, 'content-type') ?? '';
  const text = await requestText(c);
  if (text.length === 0) {
    throw validationError([{ field: 'body', message: `A ${what} body is required` }]);
  }
  if (!accepted.test(type)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `Send the body ${what === 'JSON' ? 'as JSON' : what} with Content-Type: ${mediaType}.`,
    );
  }
  return text;
}

/**
 * The body as text. A body of a known length is read from Node's own request: through the Fetch API the Node
 * adapter would first build a whole Request and a web stream around it. The envelope has already checked that
 * length against the limit, and Node's parser ends the body there. A chunked body was read and counted by the
 * envelope's limit, which left it on the Fetch request (as a request built for a test has it too).
 */
function requestText(c: Context): Promise<string> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || incoming.headers['transfer-encoding'] !== undefined) return c.req.text();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.once('end', () => {
      if (ended) return;
      ended = true;
      const text = chunks.length === 1 ? (chunks[0] as Buffer).toString() : Buffer.concat(chunks).toString();
      // As the Fetch API's text() decodes it: a byte order mark is not part of the text.
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    });
    // A client that goes away mid-body ends nothing: without this the request would wait forever. Its reset
    // (ECONNRESET) is the client's doing, not a store's, so it is not let through as one.
    const incomplete = (cause?: unknown) => {
      if (ended) return;
      ended = true;
      reject(new HttpError(400, 'body_incomplete', 'The body ended before its Content-Length.', { cause }));
    };
    incoming.once('close', () => incomplete());
    incoming.once('error', incomplete);
  });
}
