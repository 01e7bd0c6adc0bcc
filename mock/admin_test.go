package mock

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// decode unmarshals a JSON answer, failing t.
func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	return v
}

func mustStatus(t *testing.T, want int, method, url, body string) string {
	t.Helper()
	status, got, _ := call(t, method, url, body)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, status, want, got)
	}
	return got
}

// The admin API's stub mappings, as WireMock's clients use them, with
// the bodies of WireMock's admin API reference.
func TestAdminMappings(t *testing.T) {
	ts := start(t, Options{}, "testdata/wiremock")
	admin := ts.URL + "/__admin/mappings"
	files := len(ts.Stubs())

	// The example of POST /__admin/mappings in WireMock's reference.
	created := decode[map[string]any](t, mustStatus(t, 201, "POST", admin, `{
	  "request": {"method": "GET", "url": "/search?q=things", "headers": {"Accept": {"equalTo": "application/json"}}},
	  "response": {"status": 200, "jsonBody": ["thing1", "thing2"], "headers": {"Content-Type": "application/json"}}
	}`))
	id, _ := created["id"].(string)
	if len(id) != 36 {
		t.Fatalf("created %v: want a UUID id", created)
	}
	if _, body, _ := call(t, "GET", ts.URL+"/search?q=things", "", "Accept", "application/json"); body != `["thing1","thing2"]` {
		t.Fatalf("the new stub answered %q", body)
	}
	list := decode[mappingsBody](t, mustStatus(t, 200, "GET", admin, ""))
	if list.Meta.Total != files+1 || len(list.Mappings) != files+1 {
		t.Fatalf("listed %d of %d, want %d", len(list.Mappings), list.Meta.Total, files+1)
	}
	if page := decode[mappingsBody](t, mustStatus(t, 200, "GET", admin+"?limit=2&offset=1", "")); len(page.Mappings) != 2 || page.Meta.Total != files+1 {
		t.Fatalf("a page of 2: %d of %d", len(page.Mappings), page.Meta.Total)
	}
	one := decode[map[string]any](t, mustStatus(t, 200, "GET", admin+"/"+id, ""))
	if one["request"].(map[string]any)["url"] != "/search?q=things" {
		t.Fatalf("GET by id: %v", one)
	}
	mustStatus(t, 200, "PUT", admin+"/"+id, `{"request": {"method": "GET", "url": "/search?q=things"}, "response": {"status": 202, "body": "changed"}}`)
	if status, body, _ := call(t, "GET", ts.URL+"/search?q=things", ""); status != 202 || body != "changed" {
		t.Fatalf("after PUT: %d %q", status, body)
	}
	mustStatus(t, 409, "POST", admin, `{"id": "`+id+`", "request": {"url": "/dup"}}`)
	mustStatus(t, 201, "POST", admin, `{"request": {"url": "/from-files"}, "response": {"bodyFileName": "body.txt"}}`)
	if _, body, _ := call(t, "GET", ts.URL+"/from-files", ""); body != "Some text from a body file\n" {
		t.Fatalf("an admin stub's body file: %q", body)
	}
	mustStatus(t, 200, "DELETE", admin+"/"+id, "")
	mustStatus(t, 404, "GET", admin+"/"+id, "")
	mustStatus(t, 404, "DELETE", admin+"/"+id, "")
	mustStatus(t, 404, "PUT", admin+"/"+id, `{"request": {"url": "/x"}}`)

	// A file's stub deleted through the API stays gone until the reset.
	mustStatus(t, 200, "DELETE", admin+"/e7af68ed-ed7c-4f9f-9d34-344c88cca8b7", "")
	mustStatus(t, 404, "GET", ts.URL+"/text-file", "")
	mustStatus(t, 201, "POST", admin, `{}`) // an empty mapping matches every request, as in WireMock
	mustStatus(t, 200, "GET", ts.URL+"/anything", "")
	mustStatus(t, 200, "POST", admin+"/reset", "")
	mustStatus(t, 200, "GET", ts.URL+"/text-file", "")
	if n := len(ts.Stubs()); n != files {
		t.Fatalf("after the reset %d stubs, want the %d from files", n, files)
	}
	mustStatus(t, 200, "DELETE", admin, "")
	if n := len(ts.Stubs()); n != 0 {
		t.Fatalf("after DELETE /__admin/mappings %d stubs", n)
	}
}

// A bad mapping through the admin API is refused with WireMock's error
// shape naming the field, and changes nothing.
func TestAdminRefusesBadMappings(t *testing.T) {
	ts := start(t, Options{AdminMaxBodyBytes: 1 << 10}, "testdata/wiremock")
	before := len(ts.Stubs())
	for _, tc := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"invalid regex", `{"request": {"urlPattern": "/a/(["}}`, 422, "request.urlPattern: invalid regex"},
		{"invalid JSONPath", `{"request": {"bodyPatterns": [{"matchesJsonPath": "$[?(@.a =="}]}}`, 422, "request.bodyPatterns[0].matchesJsonPath: invalid JSONPath"},
		{"unknown field", `{"request": {"url": "/a", "colour": "red"}}`, 422, `unknown key "colour"`},
		{"unsupported field", `{"request": {"url": "/a"}, "response": {"proxyBaseUrl": "http://x"}}`, 422, "response.proxyBaseUrl: proxying is not supported"},
		{"not JSON", `{"request": `, 422, "invalid JSON"},
		{"two operators", `{"request": {"headers": {"A": {"equalTo": "x", "contains": "y"}}}}`, 422, "request.headers.A: more than one operator"},
		{"over the body limit", `{"name": "` + strings.Repeat("x", 2<<10) + `"}`, 413, "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := call(t, "POST", ts.URL+"/__admin/mappings", tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			errs := decode[errorsBody](t, body)
			if len(errs.Errors) != 1 || !strings.Contains(errs.Errors[0].Title, tc.want) {
				t.Fatalf("errors %+v, want a title containing %q", errs, tc.want)
			}
			if n := len(ts.Stubs()); n != before {
				t.Fatalf("%d stubs after a refused mapping, want %d", n, before)
			}
		})
	}
}

// The journal as WireMock's verification uses it: count and find with a
// request pattern, unmatched requests and their near misses, reset.
func TestAdminRequests(t *testing.T) {
	ts := start(t, Options{}, "testdata/wiremock")
	call(t, "GET", ts.URL+"/your/url?and=query", "")
	call(t, "GET", ts.URL+"/your/url?and=query", "")
	call(t, "POST", ts.URL+"/json/path", `{"name": "x"}`, "Content-Type", "application/json")
	status, body, _ := call(t, "GET", ts.URL+"/json/path", "")
	if status != 404 {
		t.Fatalf("unmatched: %d", status)
	}
	miss := decode[unmatchedBody](t, body)
	if miss.Error.Code != "not_matched" || len(miss.NearMisses) == 0 || miss.Request.URL != "/json/path" {
		t.Fatalf("unmatched answer %s", body)
	}
	if closest := miss.NearMisses[0]; closest.Mismatches[0].Field != "method" || closest.Mismatches[0].Expected != "POST" {
		t.Errorf("closest stub %+v: want the POST /json/path stub, failing on its method", closest)
	}

	count := decode[map[string]int](t, mustStatus(t, 200, "POST", ts.URL+"/__admin/requests/count", `{"method": "GET", "url": "/your/url?and=query"}`))
	if count["count"] != 2 {
		t.Errorf("count %v, want 2", count)
	}
	count = decode[map[string]int](t, mustStatus(t, 200, "POST", ts.URL+"/__admin/requests/count", `{"method": "POST", "urlPath": "/json/path", "bodyPatterns": [{"matchesJsonPath": "$.name"}]}`))
	if count["count"] != 1 {
		t.Errorf("count with a body pattern %v, want 1", count)
	}
	found := decode[foundBody](t, mustStatus(t, 200, "POST", ts.URL+"/__admin/requests/find", `{"method": "ANY", "urlPathPattern": "/your/.*"}`))
	if len(found.Requests) != 2 || found.Requests[0].URL != "/your/url?and=query" || found.Requests[0].Method != "GET" || found.Requests[0].QueryParams["and"].Values[0] != "query" {
		t.Errorf("found %+v", found)
	}
	mustStatus(t, 422, "POST", ts.URL+"/__admin/requests/count", `{"urlPattern": "("}`)

	unmatched := decode[foundBody](t, mustStatus(t, 200, "GET", ts.URL+"/__admin/requests/unmatched", ""))
	if len(unmatched.Requests) != 1 || unmatched.Requests[0].URL != "/json/path" {
		t.Errorf("unmatched %+v", unmatched)
	}
	near := decode[struct {
		NearMisses []nearMissBody `json:"nearMisses"`
	}](t, mustStatus(t, 200, "GET", ts.URL+"/__admin/requests/unmatched/near-misses", ""))
	if len(near.NearMisses) == 0 || near.NearMisses[0].Request.URL != "/json/path" || near.NearMisses[0].MatchResult.Distance <= 0 {
		t.Errorf("near misses %+v", near)
	}

	events := journalEvents(t, ts)
	if len(events) != 4 || events[0].WasMatched || !events[1].WasMatched || events[1].StubMapping == nil {
		t.Fatalf("journal: %d entries, newest first; want the unmatched one first", len(events))
	}
	one := decode[serveEvent](t, mustStatus(t, 200, "GET", ts.URL+"/__admin/requests/"+events[1].ID, ""))
	if one.Request.Body != `{"name": "x"}` || one.Response.Status != 200 {
		t.Errorf("entry %+v", one)
	}
	if r := decode[requestsBody](t, mustStatus(t, 200, "GET", ts.URL+"/__admin/requests?since=2000-01-01T00:00:00Z&limit=1", "")); len(r.Requests) != 1 || r.Meta.Total != 4 {
		t.Errorf("since and limit: %d of %d", len(r.Requests), r.Meta.Total)
	}
	if r := decode[requestsBody](t, mustStatus(t, 200, "GET", ts.URL+"/__admin/requests?since=2100-01-01T00:00:00Z", "")); len(r.Requests) != 0 {
		t.Errorf("since the future: %d", len(r.Requests))
	}
	mustStatus(t, 400, "GET", ts.URL+"/__admin/requests?since=yesterday", "")
	mustStatus(t, 200, "DELETE", ts.URL+"/__admin/requests", "")
	if events := journalEvents(t, ts); len(events) != 0 {
		t.Errorf("%d entries after DELETE", len(events))
	}
}

// Scenarios through the admin API: listed with their states, moved by a
// PUT, reset; /__admin/reset also empties the journal.
func TestAdminScenariosAndReset(t *testing.T) {
	ts := start(t, Options{}, "testdata/wiremock")
	call(t, "POST", ts.URL+"/todo/items", "Cancel newspaper subscription")
	list := decode[map[string][]Scenario](t, mustStatus(t, 200, "GET", ts.URL+"/__admin/scenarios", ""))["scenarios"]
	if len(list) != 1 || list[0].Name != "To do list" || list[0].State != "Cancel newspaper item added" || len(list[0].PossibleStates) != 2 {
		t.Fatalf("scenarios %+v", list)
	}
	mustStatus(t, 200, "POST", ts.URL+"/__admin/scenarios/reset", "")
	if _, body, _ := call(t, "GET", ts.URL+"/todo/items", ""); body != "<items><item>Buy milk</item></items>" {
		t.Fatalf("after the reset: %q", body)
	}
	mustStatus(t, 200, "PUT", ts.URL+"/__admin/scenarios/To%20do%20list/state", `{"state": "Cancel newspaper item added"}`)
	if _, body, _ := call(t, "GET", ts.URL+"/todo/items", ""); !strings.Contains(body, "Cancel newspaper") {
		t.Fatalf("after the PUT: %q", body)
	}
	mustStatus(t, 404, "PUT", ts.URL+"/__admin/scenarios/nope/state", `{"state": "x"}`)
	mustStatus(t, 201, "POST", ts.URL+"/__admin/mappings", `{"request": {"url": "/extra"}}`)
	mustStatus(t, 200, "POST", ts.URL+"/__admin/reset", "")
	if events := journalEvents(t, ts); len(events) != 0 {
		t.Errorf("%d journal entries after the reset", len(events))
	}
	mustStatus(t, 404, "GET", ts.URL+"/extra", "")
	if _, body, _ := call(t, "GET", ts.URL+"/todo/items", ""); body != "<items><item>Buy milk</item></items>" {
		t.Fatalf("scenario after /__admin/reset: %q", body)
	}
	if h := decode[map[string]string](t, mustStatus(t, 200, "GET", ts.URL+"/__admin/health", "")); h["status"] != "healthy" {
		t.Errorf("health %v", h)
	}
	mustStatus(t, 404, "GET", ts.URL+"/__admin/nothing", "")
}

// The journal keeps its latest entries and counts the ones it dropped;
// a stub request over the body limit gets 413.
func TestJournalBoundsAndBodyLimit(t *testing.T) {
	ts := start(t, Options{JournalEntries: 3, MaxBodyBytes: 16}, "testdata/wiremock")
	for range 5 {
		call(t, "GET", ts.URL+"/your/url?and=query", "")
	}
	st := ts.Status()
	if st.JournalEntries != 3 || st.JournalDropped != 2 {
		t.Fatalf("journal %d entries, %d dropped; want 3 and 2", st.JournalEntries, st.JournalDropped)
	}
	if r := decode[requestsBody](t, mustStatus(t, 200, "GET", ts.URL+"/__admin/requests", "")); r.Dropped != 2 || len(r.Requests) != 3 {
		t.Fatalf("GET requests: %d entries, dropped %d", len(r.Requests), r.Dropped)
	}
	status, body, _ := call(t, "POST", ts.URL+"/json/path", `{"name": "a name longer than sixteen bytes"}`)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "too_large") {
		t.Fatalf("over the limit: %d %s", status, body)
	}
}
