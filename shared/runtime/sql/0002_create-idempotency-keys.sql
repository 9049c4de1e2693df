-- The first answer given to a request carrying an Idempotency-Key, replayed for the same owner, key and request.
create table if not exists idempotency_keys (
  owner text not null,
  key text not null,
  request_hash text not null,
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (owner, key)
);

-- A database made before the runtime owned this table keys it by the app's users (`user_id`): plain text now.
do $$
begin
  if exists (
    select from information_schema.columns
    where table_schema = current_schema() and table_name = 'idempotency_keys' and column_name = 'user_id'
  ) then
    alter table idempotency_keys drop constraint if exists idempotency_keys_user_id_fkey;
    alter table idempotency_keys rename column user_id to owner;
    alter table idempotency_keys alter column owner type text using owner::text;
  end if;
end
$$;

create index if not exists idempotency_keys_created_idx on idempotency_keys (created_at);
