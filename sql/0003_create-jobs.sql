-- Background work a client can watch at GET /jobs/{id}.
create table jobs (
  id uuid primary key,
  user_id uuid references users (id) on delete cascade,
  task text not null,
  status text not null default 'queued'
    check (status in ('queued', 'active', 'retrying', 'succeeded', 'failed')),
  progress integer not null default 0 check (progress between 0 and 100),
  attempts integer not null default 0,
  result jsonb,
  error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index jobs_user_idx on jobs (user_id);

-- An export shares its job's id; its file is written once, so a retried job rewrites the same row.
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
