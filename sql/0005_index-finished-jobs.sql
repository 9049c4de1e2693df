-- The hourly purge looks for finished jobs by age; without this it scans the whole table each batch.
create index jobs_finished_updated_idx on jobs (updated_at) where status in ('succeeded', 'failed');
