package api

import (
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	for d, want := range map[time.Duration]string{40 * time.Millisecond: "40 ms", 300 * time.Millisecond: "0.3 s", 42 * time.Second: "42 s", 5 * time.Minute: "5 min",
		3 * time.Hour: "3 h", 50 * time.Hour: "2 days", -time.Second: "0 s"} {
		if got := Delay(d); got != want {
			t.Errorf("Delay(%v) = %q, want %q", d, got, want)
		}
	}
}
