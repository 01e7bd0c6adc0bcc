package mock

import (
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// journalEntry is entry i: its path is /i, its request body body bytes.
func journalEntry(i, body int) entry {
	r := httptest.NewRequest("POST", "/"+strconv.Itoa(i), nil)
	return newEntry(time.Now(), "127.0.0.1", stub.NewRequest(r, []byte(strings.Repeat("b", body))), nil, nil, stub.Served{Status: 200})
}

// paths lists the entries' request paths, newest first.
func paths(j *journal) []string {
	var out []string
	for _, e := range j.snapshot() {
		out = append(out, e.request().Path)
	}
	return out
}

func pathsFrom(first, last int) []string {
	var out []string
	for i := last; i >= first; i-- {
		out = append(out, "/"+strconv.Itoa(i))
	}
	return out
}

// The journal keeps the latest entries within its count, through its
// ring's growth and turns, and counts the ones it dropped.
func TestJournalKeepsTheLatest(t *testing.T) {
	j := newJournal(100, 1<<30)
	for i := range 250 {
		j.add(journalEntry(i, 10))
	}
	if got, want := paths(j), pathsFrom(150, 249); !slices.Equal(got, want) {
		t.Fatalf("kept %v, want /249 down to /150", got)
	}
	if n, bytes, dropped := j.counts(); n != 100 || bytes != 100*(10+512) || dropped != 150 {
		t.Errorf("counts %d entries, %d bytes, %d dropped; want 100, %d, 150", n, bytes, dropped, 100*(10+512))
	}
	// Remove ten in the middle of a turned ring, then add ten.
	j.remove(func(e *entry) bool { p := e.request().Path; return p >= "/200" && p < "/210" })
	for i := 250; i < 260; i++ {
		j.add(journalEntry(i, 10))
	}
	want := append(pathsFrom(210, 259), pathsFrom(150, 199)...) // room again for ten: none dropped
	if got := paths(j); !slices.Equal(got, want) {
		t.Fatalf("after a removal, kept %v, want %v", got, want)
	}
	newest := j.snapshot()[0]
	if e, ok := j.find(strings.ToUpper(newest.ID())); !ok || e.request().Path != "/259" {
		t.Errorf("find %s: %v %v, want the entry for /259", newest.ID(), ok, e.request().Path)
	}
	if _, ok := j.find("not-a-uuid"); ok {
		t.Error("found an entry for an id that is not a UUID")
	}
	j.reset()
	if n, bytes, _ := j.counts(); n != 0 || bytes != 0 || len(j.snapshot()) != 0 {
		t.Errorf("after a reset: %d entries, %d bytes", n, bytes)
	}
	j.add(journalEntry(1, 10))
	if got := paths(j); !slices.Equal(got, []string{"/1"}) {
		t.Errorf("after a reset and an add: %v", got)
	}
}

// The byte bound drops the oldest entries first, but keeps the newest
// even when it alone is over the bound; a journal that is off keeps
// nothing.
func TestJournalByteBound(t *testing.T) {
	j := newJournal(100, 3*(100+512))
	for i := range 5 {
		j.add(journalEntry(i, 100))
	}
	if got := paths(j); !slices.Equal(got, pathsFrom(2, 4)) {
		t.Fatalf("kept %v, want /4 down to /2", got)
	}
	j.add(journalEntry(5, 10_000))
	if got := paths(j); !slices.Equal(got, []string{"/5"}) {
		t.Fatalf("after an entry over the bound: %v, want it alone", got)
	}
	if _, _, dropped := j.counts(); dropped != 5 {
		t.Errorf("dropped %d, want 5", dropped)
	}
	if off := newJournal(0, 1<<20); off.on() {
		t.Error("a journal of 0 entries is on")
	}
}
