-- The single-box PostgreSQL of deploy/compose.yaml, on its first start: the tracker database is
-- POSTGRES_DB; the registry and the review app keep their own (each has its own Alembic history).
CREATE DATABASE tanyavaksin_registry;
CREATE DATABASE tanyavaksin_review;
