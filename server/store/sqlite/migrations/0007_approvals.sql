-- 0007: sign-ins waiting for a live device's approval, and devices waiting
-- for their link code's approval (issue 17). Only hashes of the waiting
-- device's token and of the user code are kept; rows go once expired
-- (Purge).
CREATE TABLE approvals (
	id                 TEXT PRIMARY KEY,
	kind               TEXT NOT NULL,
	token_hash         BLOB NOT NULL UNIQUE,
	code_hash          BLOB UNIQUE,
	account_id         TEXT NOT NULL DEFAULT '',
	number             INTEGER NOT NULL DEFAULT 0,
	device_id          TEXT NOT NULL,
	device_name        TEXT NOT NULL,
	device_platform    TEXT NOT NULL,
	device_os          TEXT NOT NULL,
	device_model       TEXT NOT NULL,
	device_app_version TEXT NOT NULL,
	remember           INTEGER NOT NULL,
	install_hash       BLOB,
	ip                 TEXT NOT NULL,
	loc_city           TEXT NOT NULL,
	loc_region         TEXT NOT NULL,
	loc_country        TEXT NOT NULL,
	loc_country_code   TEXT NOT NULL,
	created_at         INTEGER NOT NULL,
	expires_at         INTEGER NOT NULL,
	state              TEXT NOT NULL,
	decided_at         INTEGER NOT NULL DEFAULT 0,
	decided_by_session TEXT NOT NULL DEFAULT '',
	decided_by_device  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX approvals_expiry ON approvals (expires_at);
