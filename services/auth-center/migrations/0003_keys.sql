-- Signing keys shared by every replica: one row per key set, the document sealed under
-- the KEK (keys/sealed-key-set.ts). `revision` is the document's own revision, kept
-- beside it so a rotation is a compare-and-set in one UPDATE.
CREATE TABLE ac_keys (
  name text PRIMARY KEY,
  revision bigint NOT NULL,
  sealed text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
