package consul

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func FuzzRollupKeys(f *testing.F) {
	f.Add("config/", "/", "config/a/b\x00config/a/c\x00config/d\x00other/x")
	f.Add("", "", "a\x00b")
	f.Add("a", "//", "a//b//c\x00ab")
	f.Fuzz(func(t *testing.T, prefix, sep, joined string) {
		keys := strings.Split(joined, "\x00")
		got := rollupKeys(prefix, sep, keys)
		if !slices.IsSorted(got) {
			t.Fatalf("not sorted: %q", got)
		}
		for i, k := range got {
			if !strings.HasPrefix(k, prefix) {
				t.Fatalf("%q outside prefix %q", k, prefix)
			}
			if i > 0 && got[i-1] == k {
				t.Fatalf("duplicate %q", k)
			}
			if sep != "" {
				if rest := k[len(prefix):]; strings.Contains(rest, sep) && !strings.HasSuffix(rest, sep) {
					t.Fatalf("%q not cut at separator %q", k, sep)
				}
			}
		}
	})
}

func FuzzKVQuery(f *testing.F) {
	f.Add("cas=1&flags=2")
	f.Add("recurse&cas=x")
	f.Add("index=18446744073709551615&wait=5m")
	f.Add("wait=-1s&index=0")
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := httptest.NewRequest("PUT", "/v1/kv/key", nil)
		r.URL.RawQuery = rawQuery
		expect, cas, err := casParam(r)
		if err == nil && cas && expect < 0 {
			t.Fatalf("negative expected revision %d from %q", expect, rawQuery)
		}
		if err == nil && !cas && expect != -1 {
			t.Fatalf("no cas but expect %d", expect)
		}
		if q, err := parseQuery(r); err == nil {
			if d := q.timeout(); d <= 0 || d > maxWait+maxWait/jitterFraction+1 {
				t.Fatalf("timeout %v from %q", d, rawQuery)
			}
		}
		_ = conflicting(r, "recurse", "cas")
	})
}
