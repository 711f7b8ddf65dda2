-- One database per notary log (a store holds one region), each owned by its notary's own login
-- role: no notary connects as the superuser, none can open another's database. Run once, by the
-- postgres image's entrypoint (psql, as the superuser), when the data volume is new. The
-- passwords come from the secret files docker-compose.yml mounts (psql's backtick substitution
-- drops the trailing newline); they are never in this file or the repository.
\set ON_ERROR_STOP on

\set password `cat /run/secrets/notary_370000_db_password`
CREATE ROLE notary_370000 LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
CREATE DATABASE notary_370000 OWNER notary_370000;
REVOKE ALL ON DATABASE notary_370000 FROM PUBLIC;

\set password `cat /run/secrets/notary_370100_db_password`
CREATE ROLE notary_370100 LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
CREATE DATABASE notary_370100 OWNER notary_370100;
REVOKE ALL ON DATABASE notary_370100 FROM PUBLIC;

\unset password
