package eureka

import (
	"bytes"
	"compress/gzip"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/meshbridge/meshbridge/adapters/eureka/wire"
	"github.com/meshbridge/meshbridge/registry"
)

// format is a wire format.
type format int

const (
	formatXML format = iota
	formatJSON
)

func (f format) contentType() string {
	if f == formatJSON {
		return "application/json"
	}
	return "application/xml"
}

// snapshot is the view at one revision; it never changes, and its
// encodings are made once, on first use.
type snapshot struct {
	rev       int64
	hash      string
	apps      []*appSnapshot // sorted by name
	instances int

	full [2]payload // by format

	vipMu sync.Mutex
	vips  map[string][]byte
}

type appSnapshot struct {
	name    string
	entries []*entry // sorted by instance ID
}

// payload is an encoded document and, when asked for, its gzip form.
type payload struct {
	once   sync.Once
	body   []byte
	gzOnce sync.Once
	gz     []byte
}

func (p *payload) get(build func() []byte) []byte {
	p.once.Do(func() { p.body = build() })
	return p.body
}

func (p *payload) gzipped(build func() []byte) []byte {
	body := p.get(build)
	p.gzOnce.Do(func() { p.gz = gzipBytes(body) })
	return p.gz
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/8 + 64)
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // the level is valid
	// Writes to a bytes.Buffer cannot fail.
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// fullBuilder returns the builder of the full registry document; a full
// fetch always carries versions__delta 1, as on the server.
func (s *snapshot) fullBuilder(f format) func() []byte {
	return func() []byte { return applicationsDoc(f, "1", s.hash, s.apps) }
}

// applicationsDoc assembles an <applications> document from the cached
// encodings of its instances.
func applicationsDoc(f format, versionsDelta, hash string, apps []*appSnapshot) []byte {
	enc := make([]wire.EncodedApplication, len(apps))
	for i, a := range apps {
		ins := make([][]byte, len(a.entries))
		for j, en := range a.entries {
			if f == formatJSON {
				ins[j] = en.encodedJSON()
			} else {
				ins[j] = en.encodedXML()
			}
		}
		enc[i] = wire.EncodedApplication{Name: a.name, Instances: ins}
	}
	if f == formatJSON {
		return wire.EncodedApplicationsJSON(versionsDelta, hash, enc)
	}
	return wire.EncodedApplicationsXML(versionsDelta, hash, enc)
}

// fullDoc is the /apps document, gzipped when asked.
func (s *snapshot) fullDoc(f format, gz bool) []byte {
	if gz {
		return s.full[f].gzipped(s.fullBuilder(f))
	}
	return s.full[f].get(s.fullBuilder(f))
}

// app finds one application by its upper-case name.
func (s *snapshot) app(name string) *appSnapshot {
	i := sort.Search(len(s.apps), func(i int) bool { return s.apps[i].name >= name })
	if i < len(s.apps) && s.apps[i].name == name {
		return s.apps[i]
	}
	return nil
}

// appDoc is the /apps/{APP} document.
func (s *snapshot) appDoc(a *appSnapshot, f format) []byte {
	app := &wire.Application{Name: a.name, Instances: make([]*wire.Instance, len(a.entries))}
	for i, en := range a.entries {
		app.Instances[i] = en.wire
	}
	if f == formatJSON {
		return wire.ApplicationDocJSON(app)
	}
	return wire.ApplicationDocXML(app)
}

// maxVIPCache bounds the VIP documents kept per snapshot.
const maxVIPCache = 256

// vipDoc is the /vips/{vip} or /svips/{vip} document: every instance whose
// comma-separated (secure) VIP list holds the name exactly, grouped by app,
// with a hash over just those instances and versions__delta -1, as the
// server's ResponseCacheImpl.getApplicationsForVip builds it.
func (s *snapshot) vipDoc(vip string, secure bool, f format) []byte {
	cacheKey := strconv.FormatBool(secure) + strconv.Itoa(int(f)) + vip
	s.vipMu.Lock()
	if b, ok := s.vips[cacheKey]; ok {
		s.vipMu.Unlock()
		return b
	}
	s.vipMu.Unlock()

	var apps []wire.EncodedApplication
	counts := map[registry.Status]int{}
	for _, a := range s.apps {
		var ins [][]byte
		for _, en := range a.entries {
			list := en.wire.VIPAddress
			if secure {
				list = en.wire.SecureVIPAddress
			}
			if !hasVIP(list, vip) {
				continue
			}
			counts[en.status]++
			if f == formatJSON {
				ins = append(ins, en.encodedJSON())
			} else {
				ins = append(ins, en.encodedXML())
			}
		}
		if len(ins) > 0 {
			apps = append(apps, wire.EncodedApplication{Name: a.name, Instances: ins})
		}
	}
	hash := reconcileHash(counts)
	var b []byte
	if f == formatJSON {
		b = wire.EncodedApplicationsJSON("-1", hash, apps)
	} else {
		b = wire.EncodedApplicationsXML("-1", hash, apps)
	}
	s.vipMu.Lock()
	if s.vips == nil {
		s.vips = map[string][]byte{}
	}
	if len(s.vips) < maxVIPCache {
		s.vips[cacheKey] = b
	}
	s.vipMu.Unlock()
	return b
}

func hasVIP(list, vip string) bool {
	for list != "" {
		var v string
		v, list, _ = strings.Cut(list, ",")
		if v == vip {
			return true
		}
	}
	return false
}
