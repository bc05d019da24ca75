-- 0006: server/store/sqlite's migration 0007 in PostgreSQL types: sign-ins
-- waiting for a live device's approval, and devices waiting for their link
-- code's approval (issue 17). Only hashes of the waiting device's token
-- and of the user code are kept; rows go once expired (Purge).
CREATE TABLE approvals (
	id                 text PRIMARY KEY,
	kind               text NOT NULL,
	token_hash         bytea NOT NULL UNIQUE,
	code_hash          bytea UNIQUE,
	account_id         text NOT NULL DEFAULT '',
	number             integer NOT NULL DEFAULT 0,
	device_id          text NOT NULL,
	device_name        text NOT NULL,
	device_platform    text NOT NULL,
	device_os          text NOT NULL,
	device_model       text NOT NULL,
	device_app_version text NOT NULL,
	remember           boolean NOT NULL,
	install_hash       bytea,
	ip                 text NOT NULL,
	loc_city           text NOT NULL,
	loc_region         text NOT NULL,
	loc_country        text NOT NULL,
	loc_country_code   text NOT NULL,
	created_at         timestamptz NOT NULL,
	expires_at         timestamptz NOT NULL,
	state              text NOT NULL,
	decided_at         timestamptz,
	decided_by_session text NOT NULL DEFAULT '',
	decided_by_device  text NOT NULL DEFAULT ''
);
CREATE INDEX approvals_expiry ON approvals (expires_at);
