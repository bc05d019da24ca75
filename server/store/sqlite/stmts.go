package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"sessionguard/server/store/internal/columns"
)

// The live sessions of an account in list order; ListSessions,
// SearchSessions and their cursor variants must keep the same WHERE so all
// use sessions_live_by_account. A session past its idle deadline is over,
// even before the sweeper has ended it.
const listSessionsWhere = `account_id = ?1 AND revoked_at IS NULL AND expires_at > ?2 AND id <> ?3
	AND (idle_deadline IS NULL OR idle_deadline > ?2)`

// matchWhere is the condition of a session matching a search, param the
// LIKE pattern (likePattern) with \ as its escape. SQLite's LIKE folds the
// case of ASCII letters, and of no other (store.Store.SearchSessions). A
// search has no index of its own: it filters the account's live sessions
// as sessions_live_by_account yields them.
func matchWhere(param string) string {
	var b strings.Builder
	b.WriteString("(")
	for i, col := range searchColumns {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString(col + " LIKE " + param + ` ESCAPE '\'`)
	}
	b.WriteString(")")
	return b.String()
}

// SearchSessions: ListSessions' statements (?1 to ?4, or ?6 after a
// cursor) with the pattern of the search in the last parameter.
var (
	searchSessionsSQL = `SELECT ` + columns.Session + ` FROM sessions
		WHERE ` + listSessionsWhere + ` AND ` + matchWhere("?5") + `
		ORDER BY last_seen_at DESC, id DESC LIMIT ?4`
	searchSessionsAfterSQL = `SELECT ` + columns.Session + ` FROM sessions
		WHERE ` + listSessionsWhere + ` AND (last_seen_at, id) < (?4, ?5) AND ` + matchWhere("?7") + `
		ORDER BY last_seen_at DESC, id DESC LIMIT ?6`
)

// searchColumns are the columns a search looks in.
var searchColumns = []string{"device_name", "device_model", "device_os", "loc_city", "loc_region", "loc_country", "ip"}

// countSessionsSQL counts the account's (?1) sessions live at ?2 but ?3,
// those of them last seen at or after ?4, and ?3 itself if it is not
// revoked (CountSessions), through sessions_live_by_account; match is the
// search condition on ?5, or "".
func countSessionsSQL(match string) string {
	q := `SELECT count(*) FILTER (WHERE id <> ?3),
			count(*) FILTER (WHERE id <> ?3 AND last_seen_at >= ?4),
			count(*) FILTER (WHERE id = ?3)
		FROM sessions
		WHERE account_id = ?1 AND revoked_at IS NULL
			AND (id = ?3 OR (expires_at > ?2 AND (idle_deadline IS NULL OR idle_deadline > ?2)))`
	if match != "" {
		q += ` AND ` + match
	}
	return q
}

// likePattern is the LIKE pattern of the text that contains q, with q's
// wildcards (and the escape character itself) escaped by \.
func likePattern(q string) string {
	return "%" + likeEscaper.Replace(q) + "%"
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// idleDue is the WHERE of the sessions EndIdleSessions ends: live, with an
// idle deadline at or before ?1 (the revocation's time), through
// sessions_idle_due.
const idleDue = `revoked_at IS NULL AND idle_deadline IS NOT NULL AND idle_deadline <= ?1`

// An account's revoked sessions ended at or after ?2, newest first;
// ListEndedSessions and the cursor variant keep the same WHERE so both use
// sessions_ended_by_account.
const listEndedWhere = `account_id = ?1 AND revoked_at >= ?2`

// revokeSet is the SET of a revocation, its values ?1 to ?7 (revokeArgs).
const revokeSet = `revoked_at = ?1, revoke_reason = ?2, revoked_by_session = ?3, revoked_by_device_name = ?4,
	revoke_erase = ?5, closure_confirmed_at = ?6, closure_erased = ?7`

// stmts are the prepared statements, read ones on the read pool and write
// ones on the single write connection.
type stmts struct {
	// read pool
	accountByID         *sql.Stmt
	accountByUsername   *sql.Stmt
	sessionByID         *sql.Stmt
	sessionByAccessHash *sql.Stmt
	sessionOfAccount    *sql.Stmt
	sessionRevoked      *sql.Stmt
	listSessions        *sql.Stmt
	listSessionsAfter   *sql.Stmt
	searchSessions      *sql.Stmt
	searchSessionsAfter *sql.Stmt
	countSessions       *sql.Stmt
	countMatching       *sql.Stmt
	listEnded           *sql.Stmt
	listEndedAfter      *sql.Stmt
	refreshToken        *sql.Stmt
	listAudit           *sql.Stmt
	auditSince          *sql.Stmt
	auditHead           *sql.Stmt
	walkAudit           *sql.Stmt
	walkAuditHeads      *sql.Stmt
	mfaToken            *sql.Stmt
	recoveryCodesLeft   *sql.Stmt
	knownInstall        *sql.Stmt
	accountCount        *sql.Stmt
	totpSecretsPage     *sql.Stmt
	readOutbox          *sql.Stmt
	outboxHead          *sql.Stmt

	// write connection
	createAccount     *sql.Stmt
	insertSession     *sql.Stmt
	insertRefresh     *sql.Stmt
	touchSession      *sql.Stmt
	setAuthTime       *sql.Stmt
	failReauth        *sql.Stmt
	upsertInstall     *sql.Stmt
	revokeSession     *sql.Stmt
	revokeOthers      *sql.Stmt
	rotateSession     *sql.Stmt
	rotateTokens      *sql.Stmt
	txSessionRevoked  *sql.Stmt
	markDPoPRefused   *sql.Stmt
	txSessionOfAcct   *sql.Stmt
	updateSession     *sql.Stmt
	txAccountRule     *sql.Stmt
	txSettings        *sql.Stmt
	setSettings       *sql.Stmt
	copyAccountRule   *sql.Stmt
	endIdle           *sql.Stmt
	endIdleOfAccount  *sql.Stmt
	endIdleSession    *sql.Stmt
	recordUse         *sql.Stmt
	createRemembered  *sql.Stmt
	consumeRemembered *sql.Stmt
	deleteRemembered  *sql.Stmt
	deleteRemDevice   *sql.Stmt
	deleteRemExcept   *sql.Stmt
	deleteRemAll      *sql.Stmt
	appendAudit       *sql.Stmt
	txAuditHead       *sql.Stmt
	setAuditHead      *sql.Stmt
	appendOutbox      *sql.Stmt

	// write connection: closures
	insertClosureToken  *sql.Stmt
	trimClosureTokens   *sql.Stmt
	txClosureState      *sql.Stmt
	txSessionByClosure  *sql.Stmt
	confirmClosure      *sql.Stmt
	deleteClosureTokens *sql.Stmt

	// write connection: password and two-step verification
	txAccountMFA    *sql.Stmt
	updatePassword  *sql.Stmt
	deleteMFATokens *sql.Stmt
	setTOTPPending  *sql.Stmt
	enableTOTP      *sql.Stmt
	deleteRecovery  *sql.Stmt
	insertRecovery  *sql.Stmt
	disableTOTP     *sql.Stmt
	useTOTPStep     *sql.Stmt
	useRecoveryCode *sql.Stmt
	insertMFAToken  *sql.Stmt
	sweepMFATokens  *sql.Stmt
	consumeMFAToken *sql.Stmt
	rewriteSecret   *sql.Stmt
	rewritePending  *sql.Stmt

	// write connection: retention (Purge), each deleting one batch
	purgeEndedTokens   *sql.Stmt
	purgeEndedSessions *sql.Stmt
	purgeRotated       *sql.Stmt
	purgeRemembered    *sql.Stmt
	purgeMFATokens     *sql.Stmt
	purgeInstalls      *sql.Stmt
	purgeOutbox        *sql.Stmt
}

func prepare(ctx context.Context, read, write *sql.DB) (*stmts, error) {
	var errs []error
	p := func(db *sql.DB, q string) *sql.Stmt {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			errs = append(errs, err)
		}
		return st
	}
	st := &stmts{
		accountByID:         p(read, `SELECT `+columns.Account+` FROM accounts WHERE id = ?`),
		accountByUsername:   p(read, `SELECT `+columns.Account+` FROM accounts WHERE username = ?`),
		sessionByID:         p(read, `SELECT `+columns.Session+` FROM sessions WHERE id = ?`),
		sessionByAccessHash: p(read, `SELECT `+columns.Session+` FROM sessions WHERE access_hash = ?`),
		sessionOfAccount:    p(read, `SELECT `+columns.Session+` FROM sessions WHERE id = ? AND account_id = ?`),
		sessionRevoked:      p(read, `SELECT revoked_at IS NOT NULL FROM sessions WHERE id = ?`),
		listSessions: p(read, `SELECT `+columns.Session+` FROM sessions
			WHERE `+listSessionsWhere+`
			ORDER BY last_seen_at DESC, id DESC LIMIT ?4`),
		listSessionsAfter: p(read, `SELECT `+columns.Session+` FROM sessions
			WHERE `+listSessionsWhere+` AND (last_seen_at, id) < (?4, ?5)
			ORDER BY last_seen_at DESC, id DESC LIMIT ?6`),
		searchSessions:      p(read, searchSessionsSQL),
		searchSessionsAfter: p(read, searchSessionsAfterSQL),
		countSessions:       p(read, countSessionsSQL("")),
		countMatching:       p(read, countSessionsSQL(matchWhere("?5"))),
		listEnded: p(read, `SELECT `+columns.Session+` FROM sessions
			WHERE `+listEndedWhere+`
			ORDER BY revoked_at DESC, id DESC LIMIT ?3`),
		listEndedAfter: p(read, `SELECT `+columns.Session+` FROM sessions
			WHERE `+listEndedWhere+` AND (revoked_at, id) < (?3, ?4)
			ORDER BY revoked_at DESC, id DESC LIMIT ?5`),
		refreshToken: p(read, `SELECT `+columns.Refresh+` FROM refresh_tokens WHERE hash = ?`),
		listAudit: p(read, `SELECT `+columns.Audit+` FROM audit_events
			WHERE account_id = ? AND account_seq < ? ORDER BY account_seq DESC LIMIT ?`),
		auditSince: p(read, `SELECT `+columns.Audit+` FROM audit_events
			WHERE account_id = ? AND account_seq > ? ORDER BY account_seq LIMIT ?`),
		auditHead:         p(read, `SELECT seq, hash, at FROM audit_heads WHERE account_id = ?`),
		walkAudit:         p(read, `SELECT `+columns.Audit+` FROM audit_events ORDER BY account_id, account_seq`),
		walkAuditHeads:    p(read, `SELECT account_id, seq, hash, at FROM audit_heads ORDER BY account_id`),
		mfaToken:          p(read, `SELECT `+columns.MFAToken+` FROM mfa_tokens WHERE hash = ? AND expires_at > ?`),
		recoveryCodesLeft: p(read, `SELECT count(*) FROM recovery_codes WHERE account_id = ?`),
		knownInstall:      p(read, `SELECT count(*) FROM known_installs WHERE account_id = ? AND install_hash = ?`),
		accountCount:      p(read, `SELECT count(*) FROM accounts`),
		totpSecretsPage: p(read, `SELECT id, totp_secret, totp_pending_secret FROM accounts
			WHERE id > ? AND (totp_secret <> '' OR totp_pending_secret <> '') ORDER BY id LIMIT ?`),
		readOutbox: p(read, `SELECT `+columns.Outbox+` FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?`),
		// AUTOINCREMENT keeps the highest seq ever handed out here, even
		// once the entries are purged.
		outboxHead: p(read, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0)`),

		createAccount: p(write, `INSERT INTO accounts (`+columns.Account+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (username) DO NOTHING`),
		insertSession: p(write, `INSERT INTO sessions (`+columns.Session+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		insertRefresh: p(write, `INSERT INTO refresh_tokens (`+columns.Refresh+`) VALUES (?, ?, ?, ?, ?)`),
		touchSession: p(write, `UPDATE sessions SET last_seen_at = ?, expires_at = ?, ip = ?,
			loc_city = ?, loc_region = ?, loc_country = ?, loc_country_code = ?
			WHERE id = ? AND revoked_at IS NULL`),
		setAuthTime: p(write, `UPDATE sessions SET auth_time = ?, reauth_failures = 0 WHERE id = ? AND revoked_at IS NULL`),
		failReauth: p(write, `UPDATE sessions SET reauth_failures = reauth_failures + 1
			WHERE id = ? AND revoked_at IS NULL RETURNING reauth_failures`),
		upsertInstall: p(write, `INSERT INTO known_installs (account_id, install_hash, first_seen, last_used)
			VALUES (?1, ?2, ?3, ?3)
			ON CONFLICT (account_id, install_hash) DO UPDATE
			SET first_seen = min(first_seen, excluded.first_seen), last_used = max(last_used, excluded.last_used)`),
		revokeSession: p(write, `UPDATE sessions SET `+revokeSet+`
			WHERE id = ?8 AND account_id = ?9 AND revoked_at IS NULL
			RETURNING `+columns.Session),
		revokeOthers: p(write, `UPDATE sessions SET `+revokeSet+`
			WHERE account_id = ?8 AND id <> ?9 AND revoked_at IS NULL AND expires_at > ?1
			RETURNING `+columns.Session),
		rotateSession: p(write, `UPDATE sessions
			SET access_hash = ?, access_expires_at = ?, last_seen_at = ?, expires_at = ?
			WHERE id = ? AND revoked_at IS NULL`),
		rotateTokens:     p(write, `UPDATE refresh_tokens SET rotated_at = ? WHERE session_id = ? AND rotated_at IS NULL`),
		txSessionRevoked: p(write, `SELECT revoked_at IS NOT NULL FROM sessions WHERE id = ?`),
		markDPoPRefused: p(write, `UPDATE sessions SET dpop_refused_at = ?1
			WHERE id = ?2 AND dpop_refused_at IS NULL RETURNING account_id`),
		txSessionOfAcct: p(write, `SELECT `+columns.Session+` FROM sessions WHERE id = ? AND account_id = ?`),
		updateSession: p(write, `UPDATE sessions SET device_name = ?, idle_timeout_s = ? WHERE id = ?
			RETURNING `+columns.Session),
		txAccountRule: p(write, `SELECT auto_logout_inactive_after_s FROM accounts WHERE id = ?`),
		txSettings:    p(write, `SELECT auto_logout_inactive_after_s, approve_new_devices FROM accounts WHERE id = ?`),
		setSettings:   p(write, `UPDATE accounts SET auto_logout_inactive_after_s = ?, approve_new_devices = ? WHERE id = ?`),
		copyAccountRule: p(write, `UPDATE sessions SET account_idle_timeout_s = ?1
			WHERE account_id = ?2 AND revoked_at IS NULL AND account_idle_timeout_s <> ?1`),
		endIdle: p(write, `UPDATE sessions SET `+revokeSet+`
			WHERE id IN (SELECT id FROM sessions WHERE `+idleDue+` ORDER BY idle_deadline LIMIT ?8)
			RETURNING `+columns.Session),
		endIdleOfAccount: p(write, `UPDATE sessions SET `+revokeSet+`
			WHERE id IN (SELECT id FROM sessions WHERE account_id = ?9 AND `+idleDue+` LIMIT ?8)
			RETURNING `+columns.Session),
		endIdleSession: p(write, `UPDATE sessions SET `+revokeSet+`
			WHERE id = ?9 AND (?10 = '' OR account_id = ?10) AND `+idleDue+` AND ?8 > 0
			RETURNING `+columns.Session),
		recordUse: p(write, `UPDATE sessions SET last_seen_at = ?1, expires_at = max(expires_at, ?2)
			WHERE id = ?3 AND revoked_at IS NULL AND last_seen_at < ?1`),
		createRemembered:  p(write, `INSERT INTO remembered_logins (`+columns.Remembered+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		consumeRemembered: p(write, `DELETE FROM remembered_logins WHERE hash = ? RETURNING `+columns.Remembered),
		deleteRemembered:  p(write, `DELETE FROM remembered_logins WHERE hash = ? RETURNING `+columns.Remembered),
		deleteRemDevice:   p(write, `DELETE FROM remembered_logins WHERE account_id = ? AND device_id = ?`),
		deleteRemExcept:   p(write, `DELETE FROM remembered_logins WHERE account_id = ? AND device_id <> ?`),
		deleteRemAll:      p(write, `DELETE FROM remembered_logins WHERE account_id = ?`),
		appendAudit: p(write, `INSERT INTO audit_events (account_id, id, at, type, ip,
			loc_city, loc_region, loc_country, loc_country_code,
			session_id, device_name, target_session_id, target_device_name, detail,
			account_seq, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		txAuditHead: p(write, `SELECT seq, hash FROM audit_heads WHERE account_id = ?`),
		setAuditHead: p(write, `INSERT INTO audit_heads (account_id, seq, hash, at) VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (account_id) DO UPDATE SET seq = ?2, hash = ?3, at = ?4`),
		appendOutbox: p(write, `INSERT INTO outbox (at, data) VALUES (?, ?)`),

		insertClosureToken: p(write, `INSERT INTO closure_tokens (hash, session_id, issued_at) VALUES (?, ?, ?)`),
		trimClosureTokens: p(write, `DELETE FROM closure_tokens WHERE session_id = ?1 AND seq NOT IN (
			SELECT seq FROM closure_tokens WHERE session_id = ?1 ORDER BY seq DESC LIMIT ?2)`),
		txClosureState: p(write, `SELECT revoked_at IS NOT NULL, closure_confirmed_at IS NOT NULL FROM sessions WHERE id = ?`),
		txSessionByClosure: p(write, `SELECT `+columns.Session+` FROM sessions
			WHERE id = (SELECT session_id FROM closure_tokens WHERE hash = ?)`),
		confirmClosure: p(write, `UPDATE sessions SET closure_confirmed_at = ?, closure_erased = ?
			WHERE id = ? AND revoked_at IS NOT NULL AND closure_confirmed_at IS NULL
			RETURNING `+columns.Session),
		deleteClosureTokens: p(write, `DELETE FROM closure_tokens WHERE session_id = ?`),

		txAccountMFA:    p(write, `SELECT mfa_enabled FROM accounts WHERE id = ?`),
		updatePassword:  p(write, `UPDATE accounts SET password_hash = ? WHERE id = ? AND password_hash = ?`),
		deleteMFATokens: p(write, `DELETE FROM mfa_tokens WHERE account_id = ?`),
		setTOTPPending:  p(write, `UPDATE accounts SET totp_pending_secret = ? WHERE id = ? AND mfa_enabled = 0`),
		enableTOTP: p(write, `UPDATE accounts
			SET totp_secret = totp_pending_secret, totp_pending_secret = '', mfa_enabled = 1,
				totp_last_step = max(totp_last_step, ?1)
			WHERE id = ?2 AND mfa_enabled = 0 AND totp_pending_secret <> '' AND totp_pending_secret = ?3`),
		deleteRecovery:  p(write, `DELETE FROM recovery_codes WHERE account_id = ?`),
		insertRecovery:  p(write, `INSERT INTO recovery_codes (account_id, hash) VALUES (?, ?) ON CONFLICT DO NOTHING`),
		disableTOTP:     p(write, `UPDATE accounts SET totp_secret = '', totp_pending_secret = '', mfa_enabled = 0 WHERE id = ?`),
		useTOTPStep:     p(write, `UPDATE accounts SET totp_last_step = ?1 WHERE id = ?2 AND totp_last_step < ?1`),
		useRecoveryCode: p(write, `DELETE FROM recovery_codes WHERE account_id = ? AND hash = ?`),
		insertMFAToken:  p(write, `INSERT INTO mfa_tokens (`+columns.MFAToken+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		sweepMFATokens:  p(write, `DELETE FROM mfa_tokens WHERE account_id = ? AND expires_at <= ?`),
		consumeMFAToken: p(write, `DELETE FROM mfa_tokens WHERE hash = ? RETURNING `+columns.MFAToken),
		// Compare-and-set: only if the value is still the one rewritten.
		rewriteSecret:  p(write, `UPDATE accounts SET totp_secret = ?1 WHERE id = ?2 AND totp_secret = ?3`),
		rewritePending: p(write, `UPDATE accounts SET totp_pending_secret = ?1 WHERE id = ?2 AND totp_pending_secret = ?3`),

		purgeEndedTokens:   p(write, purgeEndedTokensSQL),
		purgeEndedSessions: p(write, purgeEndedSessionsSQL),
		purgeRotated:       p(write, purgeRotatedSQL),
		purgeRemembered:    p(write, purgeRememberedSQL),
		purgeMFATokens:     p(write, purgeMFATokensSQL),
		purgeInstalls:      p(write, purgeInstallsSQL),
		purgeOutbox:        p(write, purgeOutboxSQL),
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return st, nil
}
