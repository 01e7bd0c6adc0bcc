package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/registry"
)

// Client talks to the control API. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	token   string
	hc      *http.Client
	retries int
	backoff time.Duration
	log     *slog.Logger
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithToken sends "Authorization: Bearer <token>" on every request.
func WithToken(token string) ClientOption { return func(c *Client) { c.token = token } }

// WithHTTPClient replaces the HTTP client (default: 10 s timeout per request;
// watches get their wait on top).
func WithHTTPClient(hc *http.Client) ClientOption { return func(c *Client) { c.hc = hc } }

// WithRetries sets how many times a failed request is retried on connection
// errors and 5xx answers (default 3), with exponential backoff from base.
func WithRetries(n int, base time.Duration) ClientOption {
	return func(c *Client) { c.retries, c.backoff = n, base }
}

// WithLogger sets the logger for retries and watch reconnects.
func WithLogger(l *slog.Logger) ClientOption { return func(c *Client) { c.log = l } }

// NewClient returns a client for the control API at baseURL ("http://127.0.0.1:8700").
func NewClient(baseURL string, opts ...ClientOption) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("control: bad base URL %q: want http(s)://host:port", baseURL)
	}
	c := &Client{
		base:    u,
		retries: 3,
		backoff: 100 * time.Millisecond,
		log:     slog.Default(),
	}
	c.hc = &http.Client{Transport: &http.Transport{
		Proxy:               nil, // the control plane is never reached through HTTP_PROXY (it may point at our own sidecar)
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}}
	for _, o := range opts {
		o(c)
	}
	c.log = c.log.With("component", "control.client")
	return c, nil
}

// requestTimeout bounds a plain request; watches add their wait to it.
const requestTimeout = 10 * time.Second

// do sends a request to path (escaped) and decodes a JSON answer into out
// (if not nil). It retries connection errors and 5xx answers; every control
// API call is idempotent (register is an upsert), so retrying is safe, but a
// conditional write whose first attempt landed answers as the retry finds
// the store (conflict, not found).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any, timeout time.Duration) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("control: encode request: %w", err)
		}
	}
	// path arrives escaped (keys may hold '/', '?' or '%'): keep it as
	// the raw path so it is not escaped twice.
	u := *c.base
	u.RawPath = c.base.EscapedPath() + path
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		return fmt.Errorf("control: bad request path %q: %w", path, err)
	}
	u.Path = c.base.Path + unescaped
	u.RawQuery = query.Encode()
	var lastErr error
	for attempt := 0; attempt <= c.retries; attempt++ {
		if attempt > 0 {
			delay := c.backoff << (attempt - 1)
			c.log.Debug("retrying control API request", "method", method, "path", path, "attempt", attempt, "error", lastErr)
			if !wait.Sleep(ctx, delay) {
				return errors.Join(ctx.Err(), lastErr)
			}
		}
		retry, err := c.once(ctx, method, u.String(), payload, out, timeout)
		if err == nil || !retry {
			return err
		}
		lastErr = err
	}
	return lastErr
}

func (c *Client) once(ctx context.Context, method, u string, payload []byte, out any, timeout time.Duration) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return false, fmt.Errorf("control: %w", err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// The caller's context ending is final; anything else may be transient.
		return ctx.Err() == nil || !errors.Is(err, context.Canceled), fmt.Errorf("control: %s %s: %w", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return true, fmt.Errorf("control: read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var eb ErrorBody
		_ = json.Unmarshal(data, &eb) // a non-JSON error body still gives the status
		return resp.StatusCode >= 500, errorFromBody(resp.StatusCode, eb)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return false, fmt.Errorf("control: decode answer of %s %s: %w", method, req.URL.Path, err)
		}
	}
	return false, nil
}

func instancePath(k registry.InstanceKey) string {
	return "/api/v1/instances/" + url.PathEscape(k.Namespace) + "/" + url.PathEscape(k.Group) + "/" +
		url.PathEscape(k.ServiceKey) + "/" + url.PathEscape(k.ID)
}

// Register creates or replaces an instance.
func (c *Client) Register(ctx context.Context, inst *registry.Instance) (*registry.Instance, error) {
	var out registry.Instance
	if err := c.do(ctx, http.MethodPost, "/api/v1/instances", nil, inst, &out, requestTimeout); err != nil {
		return nil, err
	}
	return &out, nil
}

// Deregister removes an instance.
func (c *Client) Deregister(ctx context.Context, key registry.InstanceKey) error {
	return c.do(ctx, http.MethodDelete, instancePath(key), nil, nil, nil, requestTimeout)
}

// Renew refreshes an instance's lease; errors.Is(err, registry.ErrNotFound)
// means the instance must register again.
func (c *Client) Renew(ctx context.Context, key registry.InstanceKey) error {
	return c.do(ctx, http.MethodPut, instancePath(key)+"/renew", nil, nil, nil, requestTimeout)
}

// SetStatus sets an overriding status.
func (c *Client) SetStatus(ctx context.Context, key registry.InstanceKey, status registry.Status) (*registry.Instance, error) {
	var out registry.Instance
	if err := c.do(ctx, http.MethodPut, instancePath(key)+"/status", nil, StatusRequest{Status: status}, &out, requestTimeout); err != nil {
		return nil, err
	}
	return &out, nil
}

// ClearStatus removes the overriding status.
func (c *Client) ClearStatus(ctx context.Context, key registry.InstanceKey) (*registry.Instance, error) {
	var out registry.Instance
	if err := c.do(ctx, http.MethodDelete, instancePath(key)+"/status", nil, nil, &out, requestTimeout); err != nil {
		return nil, err
	}
	return &out, nil
}

// Instance returns one instance.
func (c *Client) Instance(ctx context.Context, key registry.InstanceKey) (*registry.Instance, error) {
	var out registry.Instance
	if err := c.do(ctx, http.MethodGet, instancePath(key), nil, nil, &out, requestTimeout); err != nil {
		return nil, err
	}
	return &out, nil
}

// FilterQuery encodes a filter as the query FilterFromQuery reads.
func FilterQuery(f registry.Filter) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"namespace": f.Namespace, "group": f.Group, "service": f.Service, "id": f.ID, "origin": f.Origin} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.HealthyOnly {
		q.Set("healthy", "true")
	}
	for k, v := range f.Labels {
		q.Add("label", k+"="+v)
	}
	return q
}

// Instances lists instances matching f.
func (c *Client) Instances(ctx context.Context, f registry.Filter) ([]*registry.Instance, int64, error) {
	var out InstancesResponse
	if err := c.do(ctx, http.MethodGet, "/api/v1/instances", FilterQuery(f), nil, &out, requestTimeout); err != nil {
		return nil, 0, err
	}
	return out.Instances, out.Revision, nil
}

// Services summarises the services of a namespace ("" for all).
func (c *Client) Services(ctx context.Context, namespace string) ([]registry.ServiceSummary, int64, error) {
	q := url.Values{}
	if namespace != "" {
		q.Set("namespace", namespace)
	}
	var out ServicesResponse
	if err := c.do(ctx, http.MethodGet, "/api/v1/services", q, nil, &out, requestTimeout); err != nil {
		return nil, 0, err
	}
	return out.Services, out.Revision, nil
}

func resourcePath(kind, name string) string {
	return "/api/v1/resources/" + url.PathEscape(kind) + "/" + url.PathEscape(name)
}

// Apply creates or replaces a resource. A positive r.Revision is sent as the
// expected revision (compare-and-set); zero means "whatever is there".
func (c *Client) Apply(ctx context.Context, r *registry.Resource) (*registry.Resource, error) {
	q := url.Values{}
	if r.Revision > 0 {
		q.Set("expect", strconv.FormatInt(r.Revision, 10))
	}
	var out registry.Resource
	body := PutResourceRequest{Labels: r.Labels, Spec: r.Spec}
	if err := c.do(ctx, http.MethodPut, resourcePath(r.Kind, r.Name), q, body, &out, requestTimeout); err != nil {
		return nil, err
	}
	return &out, nil
}

// Resource returns one resource.
func (c *Client) Resource(ctx context.Context, kind, name string) (*registry.Resource, error) {
	var out registry.Resource
	if err := c.do(ctx, http.MethodGet, resourcePath(kind, name), nil, nil, &out, requestTimeout); err != nil {
		return nil, err
	}
	return &out, nil
}

// Resources lists resources of a kind ("" for all).
func (c *Client) Resources(ctx context.Context, kind string) ([]*registry.Resource, int64, error) {
	q := url.Values{}
	if kind != "" {
		q.Set("kind", kind)
	}
	var out ResourcesResponse
	if err := c.do(ctx, http.MethodGet, "/api/v1/resources", q, nil, &out, requestTimeout); err != nil {
		return nil, 0, err
	}
	return out.Resources, out.Revision, nil
}

// Delete deletes a resource.
func (c *Client) Delete(ctx context.Context, kind, name string) error {
	return c.do(ctx, http.MethodDelete, resourcePath(kind, name), nil, nil, nil, requestTimeout)
}

// WatchQuery encodes a watch filter as WatchFilterFromQuery reads it.
func WatchQuery(f registry.WatchFilter) url.Values {
	q := url.Values{}
	if len(f.Kinds) > 0 {
		ks := make([]string, len(f.Kinds))
		for i, k := range f.Kinds {
			ks[i] = string(k)
		}
		q.Set("kinds", strings.Join(ks, ","))
	}
	if f.Service != nil {
		q.Set("namespace", f.Service.Namespace)
		q.Set("group", f.Service.Group)
		q.Set("service", f.Service.ServiceKey)
	}
	if f.ResourceKind != "" {
		q.Set("resourceKind", f.ResourceKind)
	}
	if f.KeyPrefix != "" {
		q.Set("keyPrefix", f.KeyPrefix)
	}
	return q
}

// WatchOnce long-polls for changes after index, waiting at most wait.
// index 0 answers at once with the current index.
func (c *Client) WatchOnce(ctx context.Context, index int64, wait time.Duration, f registry.WatchFilter) (WatchResult, error) {
	q := WatchQuery(f)
	q.Set("index", strconv.FormatInt(index, 10))
	q.Set("wait", wait.String())
	var out WatchResult
	err := c.do(ctx, http.MethodGet, "/api/v1/watch", q, nil, &out, wait+requestTimeout)
	return out, err
}
