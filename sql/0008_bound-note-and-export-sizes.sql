-- A note's size is counted as the JSON its title, body and tags become in a page of GET /notes and in an export
-- line: the stored size says nothing about that (TOAST compresses 100,000 `\u0001` to 2 kB, JSON writes 600 kB).
-- A trigger keeps it, so that every writer (handlers, tests, a manual fix) gets it right.
create function note_json_bytes(title text, body text, tags text[]) returns integer
language sql stable
return octet_length(to_json(title)::text) + octet_length(to_json(body)::text) + octet_length(to_json(tags)::text);

alter table notes add column json_bytes integer not null default 0;
update notes set json_bytes = note_json_bytes(title, body, tags);

create function notes_set_json_bytes() returns trigger language plpgsql as $$
begin
  new.json_bytes := note_json_bytes(new.title, new.body, new.tags);
  return new;
end
$$;
create trigger notes_json_bytes before insert or update of title, body, tags on notes
  for each row execute function notes_set_json_bytes();

-- An export's file is written in chunks, each run of the job under its own id; the run that completes the export
-- names itself in file_run, in the transaction that sets completed_at, so no reader ever sees a half file, and a
-- second run of the same job (a retry, or a timed-out run still going) keeps its chunks apart and throws them away.
create table export_chunks (
  export_id uuid not null references exports (id) on delete cascade,
  run uuid not null,
  seq integer not null,
  data bytea not null,
  primary key (export_id, run, seq)
);

-- failure says why a file cannot be made (it would pass EXPORT_MAX_BYTES), so that retries fail at once.
alter table exports
  add column file_run uuid,
  add column bytes bigint,
  add column chunks integer,
  add column failure text;

-- Files written before this migration become one chunk each.
insert into export_chunks (export_id, run, seq, data)
  select id, id, 0, content from exports where content is not null and octet_length(content) > 0;
update exports
  set file_run = id, bytes = octet_length(content), chunks = case when octet_length(content) > 0 then 1 else 0 end
  where content is not null;
alter table exports drop column content;
