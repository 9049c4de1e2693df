-- The role the app and the worker connect as: it reads and writes rows, and cannot change the schema (the
-- migrate service applies migrations as the database's owner). Run by the db-roles service on every start,
-- so it is idempotent; psql variables: app_user, app_password. Tables the owner creates later are covered
-- by the default privileges.
select format('create role %I login', :'app_user')
where not exists (select from pg_roles where rolname = :'app_user') \gexec
select format('alter role %I with login nosuperuser nocreatedb nocreaterole password %L', :'app_user', :'app_password') \gexec
select format('grant connect on database %I to %I', current_database(), :'app_user') \gexec
select format('grant usage on schema public to %I', :'app_user') \gexec
select format('grant select, insert, update, delete on all tables in schema public to %I', :'app_user') \gexec
select format('grant usage, select on all sequences in schema public to %I', :'app_user') \gexec
select format('alter default privileges in schema public grant select, insert, update, delete on tables to %I', :'app_user') \gexec
select format('alter default privileges in schema public grant usage, select on sequences to %I', :'app_user') \gexec
