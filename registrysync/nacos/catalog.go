package nacos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/model"
)

// catalog reads the console's instance list of a service's cluster
// (GET {contextPath}/v1/ns/catalog/instances), which, unlike every list
// and push a Nacos 2.x server gives a client, holds disabled instances:
// query and subscribe select with enableOnly=true, the catalog does not
// (CatalogController.instanceList, CatalogServiceV2Impl.listInstances).
// It is how the source tells an instance an operator disabled from one
// that left. It speaks plain HTTP to the servers' HTTP port, logging in
// first when a username is set, as the Nacos clients do.
type catalog struct {
	cfg  *Config
	http *http.Client

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

func newCatalog(cfg *Config) *catalog {
	return &catalog{cfg: cfg, http: &http.Client{Timeout: cfg.Timeout}}
}

// errNoCluster is the server's 404 for no such service or no such
// cluster in it ("service G@@S is not found!", "cluster C is not
// found!"; Nacos keeps a service a while after its last instance left).
// Any other 404 (a wrong context path, a proxy) is an error: taken for
// "none", it would remove every disabled instance's copies.
var errNoCluster = errors.New("no such service or cluster")

// errCatalogOff is Nacos 3.x's 410 Gone for the v1 console API, which it
// serves only with nacos.core.api.compatibility.console.enabled=true.
var errCatalogOff = errors.New("the v1 console API is off (Nacos 3.x: set nacos.core.api.compatibility.console.enabled=true)")

// instances lists every instance of one cluster of a service, disabled
// ones included, page by page; none when the server has no such service
// or cluster.
func (c *catalog) instances(ctx context.Context, namespace string, ref serviceRef, cluster string) ([]model.Instance, error) {
	var all []model.Instance
	for page := 1; ; page++ {
		q := url.Values{
			"namespaceId": {namespace}, "groupName": {ref.Group}, "serviceName": {ref.Service},
			"clusterName": {cluster}, "pageNo": {strconv.Itoa(page)}, "pageSize": {strconv.Itoa(c.cfg.PageSize)},
		}
		var got struct {
			List  []model.Instance `json:"list"`
			Count int              `json:"count"`
		}
		err := c.get(ctx, "/v1/ns/catalog/instances", q, &got)
		switch {
		case errors.Is(err, errNoCluster):
			return nil, nil
		case errors.Is(err, errCatalogOff):
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("nacos: catalog of %s/%s/%s cluster %s: %w", namespace, ref.Group, ref.Service, cluster, err)
		}
		all = append(all, got.List...)
		if len(got.List) < c.cfg.PageSize || len(all) >= got.Count {
			return all, nil
		}
	}
}

// get asks each server in turn until one answers.
func (c *catalog) get(ctx context.Context, path string, q url.Values, out any) error {
	var errs []error
	for _, server := range c.cfg.Servers {
		err := c.getFrom(ctx, server, path, q, out)
		if err == nil || errors.Is(err, errNoCluster) || errors.Is(err, errCatalogOff) || ctx.Err() != nil {
			return err
		}
		errs = append(errs, fmt.Errorf("%s: %w", server, err))
	}
	return errors.Join(errs...)
}

func (c *catalog) getFrom(ctx context.Context, server, path string, q url.Values, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.login(ctx, server)
		if err != nil {
			return err
		}
		if tok != "" {
			q.Set("accessToken", tok)
		}
		code, body, err := c.do(ctx, http.MethodGet, server, path+"?"+q.Encode(), nil)
		switch {
		case err != nil:
			return err
		case code == http.StatusForbidden && tok != "" && attempt == 0:
			c.forget(tok) // expired early (a server restart): log in again once
			continue
		case code == http.StatusNotFound && strings.Contains(string(body), " is not found!"):
			return errNoCluster
		case code == http.StatusGone:
			return errCatalogOff
		case code != http.StatusOK:
			return fmt.Errorf("answered %d: %s", code, trim(body))
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("answer: %w", err)
		}
		return nil
	}
}

// login returns a token when a username is set, logging in when there is
// none or it is due for renewal (at 90% of its lifetime, as the clients do).
func (c *catalog) login(ctx context.Context, server string) (string, error) {
	if c.cfg.Username == "" {
		return "", nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Now().Before(c.renewAt) {
		return c.token, nil
	}
	form := url.Values{"username": {c.cfg.Username}, "password": {c.cfg.Password}}
	code, body, err := c.do(ctx, http.MethodPost, server, "/v1/auth/users/login", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	var got struct {
		AccessToken string `json:"accessToken"`
		TokenTTL    int64  `json:"tokenTtl"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &got) != nil || got.AccessToken == "" {
		return "", fmt.Errorf("login as %q answered %d: %s", c.cfg.Username, code, trim(body))
	}
	ttl := time.Duration(got.TokenTTL) * time.Second
	c.token, c.renewAt = got.AccessToken, time.Now().Add(ttl-ttl/10)
	return c.token, nil
}

func (c *catalog) forget(tok string) {
	c.mu.Lock()
	if c.token == tok {
		c.token = ""
	}
	c.mu.Unlock()
}

func (c *catalog) do(ctx context.Context, method, server, pathQuery string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+server+c.cfg.ContextPath+pathQuery, body)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return resp.StatusCode, b, err
}

// trim keeps an error body short enough for a log line.
func trim(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
