create table notes (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  title text not null,
  body text not null,
  tags text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- Serves the newest-first listing with its keyset cursor, and the export's batches.
create index notes_user_created_idx on notes (user_id, created_at desc, id desc);
create index notes_tags_idx on notes using gin (tags);

-- The first answer given to a request carrying an Idempotency-Key, replayed for the same key and body.
create table idempotency_keys (
  user_id uuid not null references users (id) on delete cascade,
  key text not null,
  request_hash text not null,
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (user_id, key)
);
create index idempotency_keys_created_idx on idempotency_keys (created_at);
