package client

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readAll parses every event of r and the error that ended the stream.
func readAll(r io.Reader, maxLine, maxEvent int) ([]Event, error) {
	rd := newSSEReader(r)
	if maxLine > 0 {
		rd.maxLine, rd.maxEvent = maxLine, maxEvent
	}
	var out []Event
	for {
		ev, err := rd.Next()
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

func ev(name, data string) Event { return Event{Name: name, Data: []byte(data)} }

func TestSSEReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Event
		err  error // io.EOF unless set
	}{
		{"one event", "event: session.created\ndata: {\"a\":1}\n\n", []Event{ev("session.created", `{"a":1}`)}, nil},
		{"multi-line data", "event: x\ndata: line1\ndata: line2\ndata:\n\n", []Event{ev("x", "line1\nline2\n")}, nil},
		{"CRLF", "event: x\r\ndata: 1\r\n\r\nevent: y\r\ndata: 2\r\n\r\n", []Event{ev("x", "1"), ev("y", "2")}, nil},
		{"CR only", "event: x\rdata: 1\r\rdata: 2\r\r", []Event{ev("x", "1"), ev("message", "2")}, nil},
		{"mixed endings", "data: a\r\ndata: b\rdata: c\n\r\n", []Event{ev("message", "a\nb\nc")}, nil},
		{"comments", ": connected\n\n: keep-alive\nevent: x\n: inside\ndata: 1\n\n", []Event{ev("x", "1")}, nil},
		{"no space after colon", "event:x\ndata:1\n\n", []Event{ev("x", "1")}, nil},
		{"only one space removed", "event:  x\ndata:  1\n\n", []Event{ev(" x", " 1")}, nil},
		{"colon in value", "data: {\"at\":\"12:00\"}\n\n", []Event{ev("message", `{"at":"12:00"}`)}, nil},
		{"default name", "data: 1\n\n", []Event{ev("message", "1")}, nil},
		{"field without colon", "data\n\n", []Event{ev("message", "")}, nil},
		{"event without data is not dispatched", "event: x\n\ndata: 1\n\n", []Event{ev("message", "1")}, nil},
		{"name resets after dispatch", "event: x\ndata: 1\n\ndata: 2\n\n", []Event{ev("x", "1"), ev("message", "2")}, nil},
		{"unknown fields, id and retry ignored", "id: 7\nretry: 100\nfoo: bar\ndata: 1\n\n", []Event{ev("message", "1")}, nil},
		{"leading BOM stripped", "\xEF\xBB\xBFevent: x\ndata: 1\n\n", []Event{ev("x", "1")}, nil},
		{"later BOM kept", "data: 1\n\n\xEF\xBB\xBFdata: 2\n\n", []Event{ev("message", "1")}, nil},
		{"blank lines alone", "\n\n\r\n\r", nil, nil},
		{"incomplete event dropped", "event: x\ndata: 1\n", nil, nil},
		{"unterminated line dropped", "data: 1\n\ndata: 2", []Event{ev("message", "1")}, nil},
		{"empty", "", nil, nil},
		{"line too long", "data: " + strings.Repeat("a", maxSSELine) + "\n\n", nil, errSSELineTooLong},
		{"event too large", strings.Repeat("data: "+strings.Repeat("a", 60<<10)+"\n", 20) + "\n", nil, errSSEEventTooLong},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			got, err := readAll(r, 0, 0)
			wantErr := tt.err
			if wantErr == nil {
				wantErr = io.EOF
			}
			if !errors.Is(err, wantErr) {
				t.Errorf("%s (one byte %t): err = %v, want %v", tt.name, oneByte, err, wantErr)
			}
			if !sameEvents(got, tt.want) {
				t.Errorf("%s (one byte %t):\n got %q\nwant %q", tt.name, oneByte, got, tt.want)
			}
		}
	}
}

func sameEvents(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

// TestSSEReaderDispatchesWithoutLookahead: an event ending in a bare CR is
// delivered at once, without waiting for the next byte.
func TestSSEReaderDispatchesWithoutLookahead(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	go func() { _, _ = pw.Write([]byte("data: 1\r\r")) }()
	got := make(chan Event, 1)
	go func() {
		e, err := newSSEReader(pr).Next()
		if err == nil {
			got <- e
		}
		close(got)
	}()
	select {
	case e := <-got:
		if e.Name != "message" || string(e.Data) != "1" {
			t.Fatalf("event %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the reader waited for a byte after the final CR")
	}
	_ = pw.Close()
}

func TestEventDecode(t *testing.T) {
	var v struct{ A int }
	if err := ev("x", `{"A":3}`).Decode(&v); err != nil || v.A != 3 {
		t.Fatalf("Decode = %+v, %v", v, err)
	}
	if err := ev("x", `{"A":`).Decode(&v); err == nil {
		t.Fatal("Decode accepted truncated JSON")
	}
}

// encodeSSE writes events the way a server does.
func encodeSSE(events []Event) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString("event: " + e.Name + "\n")
		for _, line := range strings.Split(string(e.Data), "\n") {
			b.WriteString("data: " + line + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{
		"event: session.created\ndata: {}\n\n",
		": c\r\n\r\nevent:x\rdata:1\r\rdata\n\n",
		"\xEF\xBB\xBFdata: a\ndata: b\n\nid: 1\nretry: x\n\n",
		"data: " + strings.Repeat("z", 40) + "\n\n",
		"event: a\n\ndata\r\n\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, limits := range [][2]int{{0, 0}, {16, 48}} {
			whole, errWhole := readAll(bytes.NewReader(in), limits[0], limits[1])
			bytewise, errBytes := readAll(iotest.OneByteReader(bytes.NewReader(in)), limits[0], limits[1])
			if !sameEvents(whole, bytewise) || !errors.Is(errBytes, errWhole) {
				t.Fatalf("chunking changed the result:\n%q %v\n%q %v", whole, errWhole, bytewise, errBytes)
			}
			if errWhole != io.EOF && errWhole != errSSELineTooLong && errWhole != errSSEEventTooLong {
				t.Fatalf("unexpected error %v", errWhole)
			}
			maxEvent := maxSSEEvent
			if limits[1] > 0 {
				maxEvent = limits[1]
			}
			for _, e := range whole {
				if e.Name == "" || strings.ContainsAny(e.Name, "\r\n") || bytes.ContainsRune(e.Data, '\r') {
					t.Fatalf("bad event %q", e)
				}
				if len(e.Data) >= maxEvent {
					t.Fatalf("event data of %d bytes passed the %d limit", len(e.Data), maxEvent)
				}
			}
			// What was read re-encodes to the same events.
			again, err := readAll(strings.NewReader(encodeSSE(whole)), 0, 0)
			if err != io.EOF || !sameEvents(again, whole) {
				t.Fatalf("round trip: %q, %v; want %q", again, err, whole)
			}
		}
	})
}
