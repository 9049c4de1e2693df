-- Job records: background work a client can watch (`createJobRecord`, kept up to date by the worker). `owner`
-- is whoever may read the record, as plain text, so that the runtime references no table of the app's.
create table if not exists jobs (
  id uuid primary key,
  owner text,
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

-- A database made before the runtime owned this table has it from the app's migrations, with the owner in
-- `user_id` referencing the app's users: the column becomes plain text, its values kept.
do $$
begin
  if exists (
    select from information_schema.columns
    where table_schema = current_schema() and table_name = 'jobs' and column_name = 'user_id'
  ) then
    alter table jobs drop constraint if exists jobs_user_id_fkey;
    alter table jobs rename column user_id to owner;
    alter table jobs alter column owner type text using owner::text;
    alter index if exists jobs_user_idx rename to jobs_owner_idx;
  end if;
end
$$;

create index if not exists jobs_owner_idx on jobs (owner);
-- The runtime's purge looks for finished jobs by age; without this it scans the whole table each batch.
create index if not exists jobs_finished_updated_idx on jobs (updated_at) where status in ('succeeded', 'failed');
