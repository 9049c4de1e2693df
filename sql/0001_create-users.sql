-- Accounts and their refresh tokens. Email is unique without regard to case.
create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  name text,
  password_hash text not null,
  created_at timestamptz not null default now()
);
create unique index users_email_lower_key on users (lower(email));

-- Refresh tokens are stored hashed. Each use spends the token and issues the next one in the same family;
-- a spent token presented again revokes the whole family.
create table refresh_tokens (
  id uuid primary key default gen_random_uuid(),
  family_id uuid not null,
  user_id uuid not null references users (id) on delete cascade,
  token_hash bytea not null unique,
  expires_at timestamptz not null,
  used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
create index refresh_tokens_family_idx on refresh_tokens (family_id);
create index refresh_tokens_expires_idx on refresh_tokens (expires_at);
create index refresh_tokens_user_idx on refresh_tokens (user_id);
