-- Jobs enqueued inside a transaction (`enqueue(task, payload, { tx })`): the row commits or rolls back with the
-- handler's writes, and every worker's relay moves committed rows to the queue, then deletes them. A database
-- made before the runtime owned this table already has it, from the app's migrations, in this same shape.
create table if not exists outbox (
  id uuid primary key default gen_random_uuid(),
  -- RD_PREFIX of the process that wrote the row: only relays of that same prefix move it, into those queues.
  queue_prefix text not null,
  task text not null,
  payload jsonb not null,
  -- jobId, delayMs, tracked, requestId and the task's queue policy (retries, backoff, timeoutMs).
  options jsonb not null default '{}',
  created_at timestamptz not null default now(),
  attempts integer not null default 0,
  last_error text,
  -- A row the queue refused waits until then (capped backoff); it is never dropped.
  available_at timestamptz not null default now()
);
-- The relay's claim: this prefix's rows that are due, oldest first.
create index if not exists outbox_due_idx on outbox (queue_prefix, available_at);
