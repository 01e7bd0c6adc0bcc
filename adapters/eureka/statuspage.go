package eureka

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

//go:embed statuspage.html
var statusPageHTML string

var statusPageTemplate = template.Must(template.New("status").Parse(statusPageHTML))

// statusPageData is what the status page shows; the sections follow
// Spring Cloud's Eureka dashboard.
type statusPageData struct {
	Environment, Datacenter string
	CurrentTime, Uptime     string
	Namespace               string
	LeaseExpirationEnabled  bool
	SelfPreservationKnown   bool
	SelfPreserving          bool
	RenewsThreshold         int
	RenewsLastMin           int
	Apps                    []statusApp
	GeneralInfo             [][2]string
	InstanceInfo            [][2]string
}

type statusApp struct {
	Name     string
	AMIs     string
	Zones    []statusCount
	Statuses []statusGroup
}

type statusCount struct {
	Name  string
	Count int
}

type statusGroup struct {
	Status    string
	NotUp     bool
	Instances []statusInstance
}

type statusInstance struct {
	ID, URL string
}

// statusPage is GET /: an HTML page listing applications, instances,
// their status, and whether the store is in self-preservation.
func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Now()
	snap := s.view.current()
	d := statusPageData{
		Environment:            s.opts.Environment,
		Datacenter:             s.opts.Datacenter,
		Namespace:              s.opts.Namespace,
		CurrentTime:            now.Format("2006-01-02T15:04:05 -0700"),
		Uptime:                 formatUptime(now.Sub(s.started)),
		LeaseExpirationEnabled: true,
		RenewsLastMin:          s.renews.lastMinute(now),
	}
	if sp, ok := registry.As[registry.SelfPreservation](s.store); ok {
		d.SelfPreservationKnown = true
		d.SelfPreserving = sp.SelfPreserving()
		d.LeaseExpirationEnabled = !d.SelfPreserving
	}
	var expected float64
	for _, a := range snap.apps {
		app := statusApp{Name: a.name, AMIs: "n/a (" + strconv.Itoa(len(a.entries)) + ")"}
		zones := map[string]int{}
		groups := map[string]*statusGroup{}
		for _, en := range a.entries {
			if en.inst.Ephemeral && en.inst.Lease.Duration > 0 {
				expected += 60 / secondsOrF(en.inst.Lease.RenewalInterval)
			}
			zones[orDefault(en.inst.Zone, "default")]++
			st := string(en.status)
			g := groups[st]
			if g == nil {
				g = &statusGroup{Status: st, NotUp: en.status != registry.StatusUp}
				groups[st] = g
			}
			g.Instances = append(g.Instances, statusInstance{ID: en.key.ID, URL: en.wire.StatusPageURL})
		}
		for z, n := range zones {
			app.Zones = append(app.Zones, statusCount{Name: z, Count: n})
		}
		slices.SortFunc(app.Zones, func(a, b statusCount) int { return compareStrings(a.Name, b.Name) })
		for _, g := range groups {
			app.Statuses = append(app.Statuses, *g)
		}
		// UP first, then the others alphabetically.
		slices.SortFunc(app.Statuses, func(a, b statusGroup) int {
			if a.NotUp != b.NotUp {
				if a.NotUp {
					return 1
				}
				return -1
			}
			return compareStrings(a.Status, b.Status)
		})
		d.Apps = append(d.Apps, app)
	}
	d.RenewsThreshold = int(expected * 0.85)
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	d.GeneralInfo = [][2]string{
		{"total-avail-memory", fmt.Sprintf("%dmb", mem.Sys>>20)},
		{"num-of-cpus", strconv.Itoa(runtime.NumCPU())},
		{"current-memory-usage", fmt.Sprintf("%dmb (%d%%)", mem.HeapAlloc>>20, percent(mem.HeapAlloc, mem.Sys))},
		{"server-uptime", d.Uptime},
		{"registered-replicas", ""},
		{"unavailable-replicas", ""},
		{"available-replicas", ""},
		{"registry-namespace", s.opts.Namespace},
		{"registry-revision", strconv.FormatInt(snap.rev, 10)},
		{"instances", strconv.Itoa(snap.instances)},
	}
	d.InstanceInfo = [][2]string{{"ipAddr", hostOf(r)}, {"status", "UP"}}

	var buf bytes.Buffer
	if err := statusPageTemplate.Execute(&buf, d); err != nil {
		s.internalError(w, "render status page", err)
		return
	}
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = buf.WriteTo(w) // the client went away if this fails
}

func formatUptime(d time.Duration) string {
	h := int(d.Hours())
	m := int(d.Minutes()) % 60
	if h >= 24 {
		return fmt.Sprintf("%d day(s) %02d:%02d", h/24, h%24, m)
	}
	return fmt.Sprintf("%02d:%02d", h, m)
}

func secondsOrF(d time.Duration) float64 {
	if d <= 0 {
		return 30
	}
	return d.Seconds()
}

func percent(a, b uint64) uint64 {
	if b == 0 {
		return 0
	}
	return a * 100 / b
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func hostOf(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return "127.0.0.1"
}
