package client

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"sessionguard/api"
)

// exportTimeout bounds one export: a log of a million events is a few
// hundred megabytes.
const exportTimeout = 10 * time.Minute

// ServerKey returns the key the server signs audit heads with (GET
// /v1/server-key; no token needed).
func (c *Client) ServerKey(ctx context.Context) (api.ServerKey, error) {
	var out api.ServerKey
	err := c.send(ctx, call{method: "GET", path: "/v1/server-key", out: &out})
	return out, err
}

// ExportAudit streams the account's security log, the events with a Seq
// above afterSeq and then the signed head (GET /v1/audit/export), into w
// as it arrives: memory does not grow with the log. It refreshes the
// access token first if need be, as every call does. A failure part way
// leaves w holding what arrived; the reader (auditchain.ReadExport) finds
// the head missing.
func (c *Client) ExportAudit(ctx context.Context, afterSeq int64, w io.Writer) error {
	return c.withToken(ctx, func(tok string) error {
		cctx, cancel := context.WithTimeout(ctx, exportTimeout)
		defer cancel()
		req := c.rc.R().SetContext(cctx).SetDoNotParseResponse(true)
		if IsBackground(ctx) {
			req.SetHeader(api.HeaderBackground, "1")
		}
		if _, err := c.authorize(func(n, v string) { req.SetHeader(n, v) }, "GET", "/v1/audit/export", tok); err != nil {
			return err
		}
		if afterSeq > 0 {
			req.SetQueryParam("after_seq", strconv.FormatInt(afterSeq, 10))
		}
		resp, err := req.Get("/v1/audit/export")
		if err != nil {
			return transportError(ctx, err)
		}
		c.noteDate(resp.Header())
		raw := resp.RawBody()
		defer raw.Close()
		if resp.StatusCode() != http.StatusOK {
			b, rerr := io.ReadAll(io.LimitReader(raw, 64<<10))
			if rerr != nil {
				return transportError(ctx, rerr)
			}
			if resp.IsError() {
				return parseError(resp.StatusCode(), resp.Header(), b)
			}
			return unexpected(resp.StatusCode())
		}
		if mt, _, _ := mime.ParseMediaType(resp.Header().Get("Content-Type")); mt != api.NDJSONType {
			return unexpected(resp.StatusCode())
		}
		c.touch()
		dst := &sink{w: w}
		if _, err := io.Copy(dst, raw); err != nil {
			if dst.err != nil {
				return dst.err // the writer's failure (a full disk), not the network's
			}
			return transportError(ctx, err)
		}
		return nil
	})
}

// sink is a writer that remembers its own failure.
type sink struct {
	w   io.Writer
	err error
}

func (s *sink) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil {
		s.err = err
	}
	return n, err
}
