-- 0009: device-bound tokens (issue 21, DPoP). A session signed in with a
-- proof of a device key is bound to that key: jkt is the key's JWK SHA-256
-- thumbprint (base64url), '' for a session that is not bound (every
-- session created before this migration). CreateSession writes it and
-- nothing changes it afterwards. dpop_refused_at is when the bound session
-- was first used without its key (MarkDPoPRefused), NULL until then: it
-- makes that refusal audited once per session, not on every attempt.
ALTER TABLE sessions ADD COLUMN jkt TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN dpop_refused_at INTEGER;
