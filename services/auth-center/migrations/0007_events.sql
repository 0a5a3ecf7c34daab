-- The audit log (security events: logins, failures, reuse detections, revocations,
-- admin actions, client registrations), newest first by (at, id). Kept for
-- AUDIT_RETENTION_DAYS: the auth center deletes older rows periodically.
-- Never holds a token, code, password or key.
CREATE TABLE ac_security_events (
  id uuid PRIMARY KEY,
  at timestamptz NOT NULL,
  type text NOT NULL,
  user_id text,
  session_id text,
  client_id text,
  ip text,
  user_agent text,
  reason text,
  refused boolean,
  actor text,
  detail jsonb
);

-- One index per way the admin API filters (GET /admin/events): by user, by type, by time
-- alone (and the retention DELETE); id last so that a page's cursor (at, id) is a range.
CREATE INDEX ac_security_events_user_at ON ac_security_events (user_id, at, id) WHERE user_id IS NOT NULL;
CREATE INDEX ac_security_events_type_at ON ac_security_events (type, at, id);
CREATE INDEX ac_security_events_at ON ac_security_events (at, id);
