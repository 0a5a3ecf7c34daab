-- OAuth2 clients registered through the admin API. `registration` is the clients-file
-- shaped entry (client_secret_sha256, never the secret); the store does not read it.
CREATE TABLE ac_clients (
  client_id text PRIMARY KEY,
  created_at bigint NOT NULL,
  registration jsonb NOT NULL
);

-- The grants (sessions) made for a stored client, so deleting the client can revoke them.
-- No foreign key: deleting a client leaves its rows until they are taken and revoked.
CREATE TABLE ac_client_sessions (
  client_id text NOT NULL,
  session_id text NOT NULL,
  PRIMARY KEY (client_id, session_id)
);
