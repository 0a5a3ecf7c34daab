-- Accounts. One per mobile number: first login is INSERT … ON CONFLICT (mobile) DO NOTHING,
-- so the unique constraint is what makes concurrent first logins create one account.
-- Times are epoch milliseconds (the store's clock, passed in by the caller).
CREATE TABLE ac_users (
  id text PRIMARY KEY,
  mobile text NOT NULL CONSTRAINT ac_users_mobile_e164 CHECK (mobile ~ '^\+[1-9][0-9]{1,14}$'),
  password_hash text,
  created_at bigint NOT NULL,
  password_changed_at bigint,
  CONSTRAINT ac_users_mobile_key UNIQUE (mobile)
);
