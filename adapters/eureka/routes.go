package eureka

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

// basePaths are the prefixes the API is served under, longest first:
// Spring Cloud's /eureka/, the Netflix WAR's /eureka/v2/ (fargo's
// default), and /eureka/v1/ as polaris also serves it.
var basePaths = []string{"/eureka/v2/", "/eureka/v1/", "/eureka/"}

// routes builds the handler: auth first, then the route switch.
func (s *Server) routes() http.Handler {
	var h http.Handler = http.HandlerFunc(s.route)
	if s.opts.Username != "" {
		h = s.basicAuth(h)
	}
	return h
}

// basicAuth answers 401 unless the request carries the configured
// credentials, as a Spring Security protected Eureka server does.
func (s *Server) basicAuth(next http.Handler) http.Handler {
	user, pass := []byte(s.opts.Username), []byte(s.opts.Password)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		userOK := subtle.ConstantTimeCompare([]byte(u), user) == 1
		passOK := subtle.ConstantTimeCompare([]byte(p), pass) == 1
		if !ok || !userOK || !passOK {
			w.Header().Set("WWW-Authenticate", `Basic realm="Realm"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// route dispatches on the path below the base path. Path segments are
// unescaped one by one, so an escaped "/" inside an ID cannot split it.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if path == "/" {
		s.allow(w, r, map[string]http.HandlerFunc{http.MethodGet: s.statusPage})
		return
	}
	var rest string
	found := false
	for _, base := range basePaths {
		if after, ok := strings.CutPrefix(path, base); ok {
			rest, found = after, true
			break
		}
	}
	if !found {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	segs := strings.Split(rest, "/")
	// "/apps/" is Spring's full fetch; one trailing slash is ignored anywhere.
	if len(segs) > 1 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	}
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil || u == "" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		segs[i] = u
	}
	s.dispatch(w, r, segs)
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, segs []string) {
	n := len(segs)
	switch {
	case segs[0] == "apps" && n == 1:
		s.allow(w, r, map[string]http.HandlerFunc{http.MethodGet: s.getApps})
	case segs[0] == "apps" && n == 2 && segs[1] == "delta" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.getDelta(w, r)
	case segs[0] == "apps" && n == 2:
		app := strings.ToUpper(segs[1])
		s.allow(w, r, map[string]http.HandlerFunc{
			http.MethodGet:  func(w http.ResponseWriter, r *http.Request) { s.getApp(w, r, app) },
			http.MethodPost: func(w http.ResponseWriter, r *http.Request) { s.register(w, r, app) },
		})
	case segs[0] == "apps" && n == 3:
		app, id := strings.ToUpper(segs[1]), segs[2]
		s.allow(w, r, map[string]http.HandlerFunc{
			http.MethodGet:    func(w http.ResponseWriter, r *http.Request) { s.getInstance(w, r, app, id) },
			http.MethodPut:    func(w http.ResponseWriter, r *http.Request) { s.renew(w, r, app, id) },
			http.MethodDelete: func(w http.ResponseWriter, r *http.Request) { s.cancel(w, r, app, id) },
		})
	case segs[0] == "apps" && n == 4 && segs[3] == "status":
		app, id := strings.ToUpper(segs[1]), segs[2]
		s.allow(w, r, map[string]http.HandlerFunc{
			http.MethodPut:    func(w http.ResponseWriter, r *http.Request) { s.putStatus(w, r, app, id) },
			http.MethodDelete: func(w http.ResponseWriter, r *http.Request) { s.deleteStatus(w, r, app, id) },
		})
	case segs[0] == "apps" && n == 4 && segs[3] == "metadata":
		app, id := strings.ToUpper(segs[1]), segs[2]
		s.allow(w, r, map[string]http.HandlerFunc{
			http.MethodPut: func(w http.ResponseWriter, r *http.Request) { s.putMetadata(w, r, app, id) },
		})
	case segs[0] == "instances" && n == 2:
		id := segs[1]
		s.allow(w, r, map[string]http.HandlerFunc{
			http.MethodGet: func(w http.ResponseWriter, r *http.Request) { s.getInstanceByID(w, r, id) },
		})
	case (segs[0] == "vips" || segs[0] == "svips") && n == 2:
		vip, secure := segs[1], segs[0] == "svips"
		s.allow(w, r, map[string]http.HandlerFunc{
			http.MethodGet: func(w http.ResponseWriter, r *http.Request) { s.getVIP(w, r, vip, secure) },
		})
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// allow runs the handler for the request's method (HEAD as GET) or
// answers 405 with an Allow header.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, byMethod map[string]http.HandlerFunc) {
	m := r.Method
	if m == http.MethodHead {
		m = http.MethodGet
	}
	if h, ok := byMethod[m]; ok {
		h(w, r)
		return
	}
	allowed := make([]string, 0, len(byMethod))
	for _, k := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if _, ok := byMethod[k]; ok {
			allowed = append(allowed, k)
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	w.WriteHeader(http.StatusMethodNotAllowed)
}

// wantJSON is the server's rule: JSON iff Accept mentions json, else XML.
func wantJSON(r *http.Request) format {
	if strings.Contains(r.Header.Get("Accept"), "json") {
		return formatJSON
	}
	return formatXML
}

func acceptsGzip(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
}

// writeDoc writes a document with its content type.
func writeDoc(w http.ResponseWriter, f format, body []byte, gzipped bool) {
	h := w.Header()
	h.Set("Content-Type", f.contentType())
	if gzipped {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	// A failed write means the client went away; nothing to do.
	_, _ = w.Write(body)
}

// writeText answers with a plain-text message, as the server's resources
// do for bad registrations.
func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg))
}
