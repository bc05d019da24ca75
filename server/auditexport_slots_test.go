package server

import "testing"

// TestExportSlots: at most exportsPerAccount exports of one account run at
// once; another account is not held up; a finished one frees its slot.
func TestExportSlots(t *testing.T) {
	var x exportSlots
	for i := range exportsPerAccount {
		if !x.take("acc_a") {
			t.Fatalf("export %d of acc_a refused", i+1)
		}
	}
	if x.take("acc_a") {
		t.Fatal("one export too many of acc_a accepted")
	}
	if !x.take("acc_b") {
		t.Fatal("acc_b held up by acc_a's exports")
	}
	x.release("acc_a")
	if !x.take("acc_a") {
		t.Fatal("a finished export did not free its slot")
	}
	for range exportsPerAccount {
		x.release("acc_a")
	}
	x.release("acc_b")
	if len(x.running) != 0 {
		t.Errorf("slots left after every export ended: %v", x.running)
	}
}
