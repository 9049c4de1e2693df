import { randomUUID } from 'node:crypto';
import type { TestApp } from './app.ts';

/** A registered, signed-in account and the headers that act as it. */
export type SignedIn = {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  headers: { authorization: string };
};

/** Registers a fresh account through the API and signs it in. */
export async function signUp(t: TestApp, name = 'Test User'): Promise<SignedIn> {
  const email = `user-${randomUUID()}@example.test`;
  const password = 'correct horse battery staple';
  const registered = await t.request('POST', '/auth/register', { body: { email, password, name } });
  if (registered.status !== 201)
    throw new Error(`register answered ${registered.status}: ${await registered.text()}`);
  const { id } = (await registered.json()) as { id: string };
  const login = await t.request('POST', '/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login answered ${login.status}: ${await login.text()}`);
  const tokens = (await login.json()) as { accessToken: string; refreshToken: string };
  return { id, email, password, ...tokens, headers: { authorization: `Bearer ${tokens.accessToken}` } };
}
