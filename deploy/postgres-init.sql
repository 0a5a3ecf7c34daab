-- Run once, when the demo cluster's PostgreSQL volume is created (docker-compose.yml):
-- the user service's own database and role, apart from the auth center's (a downstream
-- service never gets the auth center's store).
CREATE ROLE users LOGIN PASSWORD 'users';
CREATE DATABASE users OWNER users;
