-- Short-lived codes and counters (src/store/codes/postgres.ts). Expiry times are epoch
-- milliseconds by the database's clock, so every replica agrees; expired rows are
-- ignored on read and pruned in the background.

-- One row per mobile number: the live SMS code (code_hash NULL once consumed or dead) and the cooldown.
CREATE TABLE ac_sms_codes (
  mobile         text PRIMARY KEY,
  code_hash      text,
  tries_left     integer NOT NULL,
  expires_at     bigint NOT NULL,
  cooldown_until bigint NOT NULL
);
CREATE INDEX ac_sms_codes_expiry ON ac_sms_codes (GREATEST(expires_at, cooldown_until));

-- Fixed-window counters (rate budgets, failed-password counts).
CREATE TABLE ac_counters (
  key      text PRIMARY KEY,
  count    integer NOT NULL,
  reset_at bigint NOT NULL
);
CREATE INDEX ac_counters_reset ON ac_counters (reset_at);

-- markOnce: DPoP proof jti replay marks.
CREATE TABLE ac_marks (
  key        text PRIMARY KEY,
  expires_at bigint NOT NULL
);
CREATE INDEX ac_marks_expires ON ac_marks (expires_at);
