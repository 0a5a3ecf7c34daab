-- OAuth2 authorization codes (short-lived) and consents (durable) (src/store/oauth/postgres.ts).

-- A code's grant (JSON, src/oauth/codes.ts), under a hash of the code. Expiry by the database's clock (ms).
CREATE TABLE ac_auth_codes (
  code_id    text PRIMARY KEY,
  grant_json text NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX ac_auth_codes_expires ON ac_auth_codes (expires_at);

-- The "used" marker a taken code leaves: 'pending', 'replayed' or 's:<sessionId>'.
CREATE TABLE ac_used_auth_codes (
  code_id    text PRIMARY KEY,
  state      text NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX ac_used_auth_codes_expires ON ac_used_auth_codes (expires_at);

-- What a user allowed a client, until withdrawn.
CREATE TABLE ac_consents (
  user_id    text NOT NULL,
  client_id  text NOT NULL,
  scope      text NOT NULL,
  granted_at bigint NOT NULL,
  PRIMARY KEY (user_id, client_id)
);
