package client

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// Event is one Server-Sent Event of GET /v1/events: its name (api.Event*)
// and its JSON payload.
type Event struct {
	Name string
	Data json.RawMessage
}

// Decode unmarshals the event's payload into v, such as an
// *api.SessionCreatedEvent.
func (e Event) Decode(v any) error { return json.Unmarshal(e.Data, v) }

// Limits of the SSE reader: one line, and the data of one event.
const (
	maxSSELine  = 64 << 10
	maxSSEEvent = 1 << 20
)

var (
	errSSELineTooLong  = errors.New("event stream line too long")
	errSSEEventTooLong = errors.New("event stream event too large")
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// sseReader parses a text/event-stream (the WHATWG HTML "server-sent
// events" format): "event:" and "data:" fields (data may span several
// lines), ":" comments, "id:" and "retry:" (read and ignored), dispatch on
// a blank line. Lines end in LF, CRLF or CR. Lines and events are bounded.
type sseReader struct {
	r        *bufio.Reader
	maxLine  int
	maxEvent int
	line     []byte
	skipLF   bool // the previous line ended in CR: a following LF belongs to it
	started  bool // the first line (and its BOM) has been read
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, 4096), maxLine: maxSSELine, maxEvent: maxSSEEvent}
}

// Next returns the next complete event. Events without a data field are
// not dispatched, and an event cut off by the end of the stream is dropped.
// At the end of the stream it returns io.EOF.
func (s *sseReader) Next() (Event, error) {
	var (
		name    string
		data    []byte
		hasData bool
	)
	for {
		line, err := s.readLine()
		if err != nil {
			return Event{}, err
		}
		if len(line) == 0 {
			if !hasData {
				name = ""
				continue
			}
			if name == "" {
				name = "message"
			}
			return Event{Name: name, Data: json.RawMessage(data[:len(data)-1])}, nil
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := bytes.Cut(line, []byte{':'})
		if found {
			value = bytes.TrimPrefix(value, []byte{' '})
		}
		switch string(field) {
		case "event":
			name = string(value)
		case "data":
			if len(data)+len(value)+1 > s.maxEvent {
				return Event{}, errSSEEventTooLong
			}
			data = append(data, value...)
			data = append(data, '\n')
			hasData = true
		}
	}
}

// readLine returns the next line without its terminator. The slice is
// valid until the next call.
func (s *sseReader) readLine() ([]byte, error) {
	s.line = s.line[:0]
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return nil, err // an unterminated last line is incomplete: dropped
		}
		if s.skipLF {
			s.skipLF = false
			if b == '\n' {
				continue
			}
		}
		switch b {
		case '\r':
			s.skipLF = true
			return s.firstLine(), nil
		case '\n':
			return s.firstLine(), nil
		}
		if len(s.line) >= s.maxLine {
			return nil, errSSELineTooLong
		}
		s.line = append(s.line, b)
	}
}

// firstLine strips a byte order mark at the very start of the stream.
func (s *sseReader) firstLine() []byte {
	if !s.started {
		s.started = true
		return bytes.TrimPrefix(s.line, utf8BOM)
	}
	return s.line
}
