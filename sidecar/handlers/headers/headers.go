package headers

import (
	"net/http"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Name is the handler's registered name.
const Name = "headers"

func init() {
	chain.Register(chain.Kind{
		Name:      Name,
		NewConfig: func() chain.Config { return &Config{} },
		New:       func(chain.Config, chain.Deps) (chain.Handler, error) { return New(), nil },
	})
}

// Config is empty: the headers come from each service's policy.
type Config struct{}

// Validate implements chain.Config.
func (*Config) Validate() error { return nil }

// Handler sets a service's policy headers on its requests.
type Handler struct{}

// New builds a headers handler.
func New() *Handler { return &Handler{} }

// Name implements chain.Handler.
func (*Handler) Name() string { return Name }

// Active implements chain.Selective: services whose policy sets headers.
func (*Handler) Active(s *table.Service) bool {
	return s != nil && s.Policy != nil && len(s.Policy.Headers) > 0
}

// Serve implements chain.Handler. A value replaces whatever the app sent
// under that name; an empty value removes the header.
func (*Handler) Serve(ex *chain.Exchange, next chain.Next) (*http.Response, error) {
	if s := ex.Service; s != nil && s.Policy != nil && len(s.Policy.Headers) > 0 {
		h := ex.EditHeader()
		for name, value := range s.Policy.Headers {
			if value == "" {
				h.Del(name)
			} else {
				h.Set(name, value)
			}
		}
	}
	return next(ex)
}

var (
	_ chain.Handler   = (*Handler)(nil)
	_ chain.Selective = (*Handler)(nil)
)
