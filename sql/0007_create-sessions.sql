-- A session is one sign-in. Its id is the family of refresh tokens it rotates through and the `sid` claim of
-- its access tokens, which the bearer check looks up here: revoking the row ends the refresh tokens and the
-- access tokens of that sign-in together. `created_at` bounds how long it can be refreshed (its maximum age).
create table sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
create index sessions_user_idx on sessions (user_id);
create index sessions_created_idx on sessions (created_at);

-- The families issued before this table existed become sessions that began with their first token; a
-- family any of whose tokens was revoked was revoked as a whole.
insert into sessions (id, user_id, created_at, revoked_at)
select family_id, user_id, min(created_at), max(revoked_at)
from refresh_tokens
group by family_id, user_id;
