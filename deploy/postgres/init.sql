-- One database per notary log (a store holds one region). Run once, by the postgres image's
-- entrypoint, when the data volume is new.
CREATE DATABASE notary_370000 OWNER lianzheng;
CREATE DATABASE notary_370100 OWNER lianzheng;
