-- Version 1: one row per user that has a profile (src/profiles/postgres-store.ts).
CREATE TABLE IF NOT EXISTS profiles (
  id         text PRIMARY KEY,
  username   text,
  avatar     text,
  updated_at timestamptz(3) NOT NULL
);
