-- Sessions with refresh-token rotation, the denylist, the epoch and the revocation
-- feed log (src/store/sessions/postgres.ts). Times are epoch milliseconds (bigint):
-- the callers pass them in, as with every driver.

CREATE TABLE ac_sessions (
  id             text PRIMARY KEY,
  user_id        text NOT NULL,
  client_id      text NOT NULL,
  device_name    text,
  ip             text,
  user_agent     text,
  created_at     bigint NOT NULL,
  last_used_at   bigint NOT NULL,
  expires_at     bigint NOT NULL,
  refresh_gen    integer NOT NULL,
  rotated_at     bigint NOT NULL,
  refresh_nonce  text NOT NULL,
  revoked_at     bigint,
  revoked_reason text,
  jkt            text,
  fgp_hash       text,
  scope          text,
  kind           text,
  -- By the database's clock: after it the row counts as gone (and is pruned), like a Redis TTL.
  retain_until   bigint NOT NULL
);
-- listUserSessions and revokeUserSessions: a user's sessions, oldest first.
CREATE INDEX ac_sessions_user ON ac_sessions (user_id, created_at, id);
CREATE INDEX ac_sessions_retain ON ac_sessions (retain_until);

-- The denylist of docs/revocation-protocol.md: field `s:<sid>` / `u:<userId>`, value `<revokedAtMs>:<expiresAtMs>[:<exceptSid>]`.
CREATE TABLE ac_denylist (
  field      text PRIMARY KEY,
  value      text NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX ac_denylist_expires ON ac_denylist (expires_at);

-- The epoch `<createdAtMs>:<random>`: one row, made once (INSERT … ON CONFLICT DO NOTHING).
CREATE TABLE ac_epoch (
  id    smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  value text NOT NULL
);

-- The feed log: one row per revocation, its id is the cursor position `0-<id>`.
CREATE TABLE ac_revocation_log (
  id      bigserial PRIMARY KEY,
  message text NOT NULL
);

-- One row every revoking transaction locks (FOR UPDATE) before it logs: revocations
-- commit one at a time, so log ids grow in commit order and a reader resuming after
-- an id can never miss one committed later with a smaller id. trimmed_to is the last
-- id the trim dropped: a cursor before it cannot be resumed.
CREATE TABLE ac_revocation_feed (
  id         smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  trimmed_to bigint NOT NULL DEFAULT 0
);
INSERT INTO ac_revocation_feed (id, trimmed_to) VALUES (1, 0);
