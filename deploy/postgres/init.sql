-- Runs once, when the PostgreSQL volume is first created (docker-entrypoint-initdb.d).
-- One database, one schema per service: a service reads and writes only its own schema. The
-- services' migrations also `CREATE SCHEMA IF NOT EXISTS`, so this script and they agree; creating
-- the schemas here lets an operator grant per-service roles before the first start.
CREATE SCHEMA IF NOT EXISTS users;
CREATE SCHEMA IF NOT EXISTS products;
CREATE SCHEMA IF NOT EXISTS orders;
CREATE SCHEMA IF NOT EXISTS payments;
CREATE SCHEMA IF NOT EXISTS notifications;
CREATE SCHEMA IF NOT EXISTS analytics;
