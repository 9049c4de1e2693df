import { HttpError } from '#runtime/errors.ts';
import { defineHandler } from '#runtime/http/handler.ts';
import { bearer } from '#shared/bearer-auth.ts';
import { toUserView, type UserRow, UserView } from '#shared/users.ts';

export default defineHandler({
  summary: 'The signed-in account',
  description: 'The account the access token was issued to; 401 once that account no longer exists.',
  tags: ['auth'],
  auth: bearer,
  responses: { 200: UserView },
  async handle({ user, sql }) {
    const [row] = await sql<UserRow[]>`select id, email, name, created_at from users where id = ${user.id}`;
    if (!row) throw HttpError.unauthorized('The account of this token no longer exists.');
    return toUserView(row);
  },
});
