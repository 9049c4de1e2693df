-- supersedes 914abac37f28a1894d139a30123c758d284d4b1e1ed9a28008c22a0a91c19579
-- (the version that also created the jobs table, which the runtime now owns: shared/runtime/sql/)

-- An export shares its job's id; its file is written once, so a retried job rewrites the same row. It goes
-- when the runtime purges its finished job.
create table exports (
  id uuid primary key references jobs (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  format text not null check (format in ('ndjson', 'csv')),
  content bytea,
  content_type text,
  filename text,
  created_at timestamptz not null default now(),
  completed_at timestamptz
);
create index exports_user_idx on exports (user_id);
