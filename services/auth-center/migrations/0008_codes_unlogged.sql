-- The codes concern is hot state (SMS codes, rate counters, DPoP jti marks: minutes to a
-- day long), the state the postgres+redis mode keeps in Redis. UNLOGGED tables write no
-- WAL, so a transaction that only touches them commits without waiting for a disk flush
-- (a login counted four such writes, each a ~1 ms fdatasync on the benchmark's disk).
-- What it costs: after a PostgreSQL crash (not a clean restart) these three tables come
-- back empty, as after losing Redis: a pending SMS code must be asked for again, rate
-- windows start afresh, and a DPoP proof seen just before the crash could be replayed
-- within its few-minute freshness window. Users, sessions, the denylist, OAuth codes,
-- consents, clients, events and keys stay logged (and durable at every commit).
ALTER TABLE ac_sms_codes SET UNLOGGED;
ALTER TABLE ac_counters SET UNLOGGED;
ALTER TABLE ac_marks SET UNLOGGED;
