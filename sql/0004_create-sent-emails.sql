-- One row per email a task has sent, so that a retried task does not send it again.
create table sent_emails (
  user_id uuid not null references users (id) on delete cascade,
  kind text not null,
  status text not null check (status in ('sending', 'sent')),
  message_id text,
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (user_id, kind)
);
