package v1

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/adapters/nacos/config"
)

func configKey(p *params) (config.Key, error) {
	dataID, err := p.required("dataId")
	if err != nil {
		return config.Key{}, err
	}
	k, err := config.NewKey(p.get("tenant"), p.get("group"), dataID)
	if err != nil {
		return config.Key{}, badRequest(err.Error())
	}
	return k, nil
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request, p *params) error {
	k, err := configKey(p)
	if err != nil {
		return err
	}
	it, err := s.opts.Configs.Get(r.Context(), k)
	if errors.Is(err, config.ErrNotFound) {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "config data not exist\n") // the client may be gone; nothing to do about it
		return nil
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain;charset=UTF-8")
	h.Set("Config-Type", it.ContentType())
	h.Set("Content-MD5", it.MD5)
	h.Set("Last-Modified", strconv.FormatInt(it.LastModified.UnixMilli(), 10))
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
	h.Set("Cache-Control", "no-cache,no-store")
	io.WriteString(w, it.Content) // the client may be gone; nothing to do about it
	return nil
}

func (s *Server) publishConfig(w http.ResponseWriter, r *http.Request, p *params) error {
	k, err := configKey(p)
	if err != nil {
		return err
	}
	content := p.get("content")
	if strings.TrimSpace(content) == "" {
		return badRequest("Param 'content' is required.")
	}
	if _, err := s.opts.Configs.Publish(r.Context(), k, content, p.get("casMd5")); err != nil {
		if errors.Is(err, config.ErrCASMismatch) {
			return badRequest(err.Error())
		}
		return storeError(err)
	}
	writeJSON(w, true)
	return nil
}

func (s *Server) removeConfig(w http.ResponseWriter, r *http.Request, p *params) error {
	k, err := configKey(p)
	if err != nil {
		return err
	}
	if err := s.opts.Configs.Remove(r.Context(), k); err != nil {
		return err
	}
	writeJSON(w, true)
	return nil
}

// Separators of the Listening-Configs format.
const (
	wordSep = "\x02"
	lineSep = "\x01"
)

type listened struct {
	key config.Key
	md5 string
}

// parseListening reads dataId^2group^2md5[^2tenant]^1... .
func parseListening(raw string) ([]listened, error) {
	var out []listened
	for line := range strings.SplitSeq(raw, lineSep) {
		if line == "" {
			continue
		}
		f := strings.Split(line, wordSep)
		if len(f) < 3 || len(f) > 4 {
			return nil, badRequest("invalid probeModify")
		}
		tenant := ""
		if len(f) == 4 {
			tenant = f[3]
		}
		k, err := config.NewKey(tenant, f[1], f[0])
		if err != nil {
			return nil, badRequest(err.Error())
		}
		out = append(out, listened{key: k, md5: f[2]})
	}
	if len(out) == 0 {
		return nil, badRequest("invalid probeModify")
	}
	return out, nil
}

// listenConfigs is the 1.x long poll: it answers at once with the items
// whose md5 differs, or holds the request until one changes or the
// client's Long-Pulling-Timeout (less 500 ms, at most LongPollMax) ends.
func (s *Server) listenConfigs(w http.ResponseWriter, r *http.Request, p *params) error {
	raw, err := p.required("Listening-Configs")
	if err != nil {
		return err
	}
	items, err := parseListening(raw)
	if err != nil {
		return err
	}
	changedCh := make(chan struct{}, 1)
	cancel := s.opts.ConfigHub.Listen(func(k config.Key) {
		for _, it := range items {
			if k == (config.Key{}) || it.key.Same(k) {
				select {
				case changedCh <- struct{}{}:
				default:
				}
				return
			}
		}
	})
	defer cancel()
	ctx := r.Context()
	changed, err := s.changedItems(ctx, items)
	if err != nil {
		return err
	}
	hold := time.Duration(0)
	if v := r.Header.Get("Long-Pulling-Timeout"); v != "" && r.Header.Get("Long-Pulling-Timeout-No-Hangup") != "true" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 {
			return badRequest("Long-Pulling-Timeout is illegal: " + v)
		}
		hold = min(time.Duration(ms)*time.Millisecond-500*time.Millisecond, s.opts.LongPollMax)
	}
	if len(changed) == 0 && hold > 0 {
		timer := time.NewTimer(hold)
		defer timer.Stop()
	wait:
		for len(changed) == 0 {
			select {
			case <-changedCh:
				if changed, err = s.changedItems(ctx, items); err != nil {
					return err
				}
			case <-timer.C:
				break wait
			case <-ctx.Done():
				break wait
			}
		}
	}
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Expires", "0")
	w.Header().Set("Cache-Control", "no-cache,no-store")
	var b strings.Builder
	for _, it := range changed {
		line := it.key.DataID + wordSep + it.key.Group
		if it.key.Tenant != "" {
			line += wordSep + it.key.Tenant
		}
		b.WriteString(url.QueryEscape(line + lineSep))
	}
	writeText(w, b.String())
	return nil
}

func (s *Server) changedItems(ctx context.Context, items []listened) ([]listened, error) {
	var changed []listened
	for _, it := range items {
		md5, err := s.opts.Configs.CurrentMD5(ctx, it.key)
		if err != nil {
			return nil, err
		}
		if md5 != it.md5 {
			changed = append(changed, it)
		}
	}
	return changed, nil
}
