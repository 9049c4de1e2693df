-- supersedes 09a6286c49ce5802b4688fe10887623d95a6be4fdb18a5446db7aaeb7d9678f1
-- (the version that also created idempotency_keys, which the runtime now owns: shared/runtime/sql/)
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
