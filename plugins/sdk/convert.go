package sdk

import (
	"net/http"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// The conversions below share slices with their input instead of copying:
// a message is marshalled (or a plain value handed over) right after it is
// built, and nothing keeps both.

// headersToWire flattens h into name/value pairs.
func headersToWire(h http.Header) []string {
	if len(h) == 0 {
		return nil
	}
	n := 0
	for _, vs := range h {
		n += 2 * len(vs)
	}
	out := make([]string, 0, n)
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, k, v)
		}
	}
	return out
}

// headersFromWire rebuilds a header set from name/value pairs; names are
// canonicalised, as a plugin may send any spelling. An odd last element
// (a name without a value) is dropped.
func headersFromWire(kv []string) http.Header {
	h := make(http.Header, len(kv)/2)
	// One array holds every name's first value, as net/textproto does: one
	// allocation instead of one per name. The capacity of 1 makes an
	// append (a repeated name, or the handler's) copy out.
	firsts := make([]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		k := http.CanonicalHeaderKey(kv[i])
		if vs, ok := h[k]; ok {
			h[k] = append(vs, kv[i+1])
			continue
		}
		j := i / 2
		firsts[j] = kv[i+1]
		h[k] = firsts[j : j+1 : j+1]
	}
	return h
}

func requestToWire(r *Request) *pluginv1.HTTPRequest {
	if r == nil {
		return nil
	}
	return &pluginv1.HTTPRequest{
		Method:        r.Method,
		Scheme:        r.Scheme,
		Host:          r.Host,
		Path:          r.Path,
		RawQuery:      r.RawQuery,
		Proto:         r.Proto,
		RemoteAddr:    r.RemoteAddr,
		Headers:       headersToWire(r.Header),
		Body:          r.Body,
		BodyTruncated: r.BodyTruncated,
		ContentLength: r.ContentLength,
	}
}

func requestFromWire(m *pluginv1.HTTPRequest) *Request {
	if m == nil {
		return &Request{Header: http.Header{}}
	}
	return &Request{
		Method:        m.GetMethod(),
		Scheme:        m.GetScheme(),
		Host:          m.GetHost(),
		Path:          m.GetPath(),
		RawQuery:      m.GetRawQuery(),
		Proto:         m.GetProto(),
		RemoteAddr:    m.GetRemoteAddr(),
		Header:        headersFromWire(m.GetHeaders()),
		Body:          m.GetBody(),
		BodyTruncated: m.GetBodyTruncated(),
		ContentLength: m.GetContentLength(),
	}
}

func changesToWire(c HeaderChanges) *pluginv1.HeaderChanges {
	if c.Empty() {
		return nil
	}
	return &pluginv1.HeaderChanges{Set: headersToWire(c.Set), Add: headersToWire(c.Add), Remove: c.Remove}
}

func changesFromWire(m *pluginv1.HeaderChanges) HeaderChanges {
	if m == nil {
		return HeaderChanges{}
	}
	c := HeaderChanges{Remove: m.GetRemove()}
	if len(m.GetSet()) > 0 {
		c.Set = headersFromWire(m.GetSet())
	}
	if len(m.GetAdd()) > 0 {
		c.Add = headersFromWire(m.GetAdd())
	}
	return c
}

func requestResultToWire(r *RequestResult) *pluginv1.RequestResult {
	if r == nil {
		return &pluginv1.RequestResult{}
	}
	out := &pluginv1.RequestResult{State: r.State}
	if r.Response != nil {
		out.Response = &pluginv1.DirectResponse{
			Status:  int32(r.Response.Status),
			Headers: headersToWire(r.Response.Header),
			Body:    r.Response.Body,
		}
		return out
	}
	out.Headers = changesToWire(r.Header)
	return out
}

func requestResultFromWire(m *pluginv1.RequestResult) *RequestResult {
	out := &RequestResult{State: m.GetState()}
	if resp := m.GetResponse(); resp != nil {
		out.Response = &Response{
			Status: int(resp.GetStatus()),
			Header: headersFromWire(resp.GetHeaders()),
			Body:   resp.GetBody(),
		}
		return out
	}
	out.Header = changesFromWire(m.GetHeaders())
	return out
}

func responseInfoToWire(r *ResponseInfo) *pluginv1.ResponseInfo {
	return &pluginv1.ResponseInfo{
		Request: requestToWire(r.Request),
		Status:  int32(r.Status),
		Headers: headersToWire(r.Header),
		State:   r.State,
	}
}

func responseInfoFromWire(m *pluginv1.ResponseInfo) *ResponseInfo {
	return &ResponseInfo{
		Request: requestFromWire(m.GetRequest()),
		Status:  int(m.GetStatus()),
		Header:  headersFromWire(m.GetHeaders()),
		State:   m.GetState(),
	}
}

func instanceToWire(i *Instance) *pluginv1.Instance {
	if i == nil {
		return nil
	}
	return &pluginv1.Instance{
		Id:            i.ID,
		Service:       i.Service,
		Namespace:     i.Namespace,
		Group:         i.Group,
		Cluster:       i.Cluster,
		Zone:          i.Zone,
		Host:          i.Host,
		Port:          int32(i.Port),
		SecurePort:    int32(i.SecurePort),
		SecureEnabled: i.SecureEnabled,
		Scheme:        i.Scheme,
		Status:        i.Status,
		Health:        i.Health,
		Weight:        i.Weight,
		Disabled:      i.Disabled,
		Ephemeral:     i.Ephemeral,
		Metadata:      i.Metadata,
		Tags:          i.Tags,
		Labels:        i.Labels,
		Origin:        i.Origin,
	}
}

func instanceFromWire(m *pluginv1.Instance) *Instance {
	if m == nil {
		return nil
	}
	return &Instance{
		ID:            m.GetId(),
		Service:       m.GetService(),
		Namespace:     m.GetNamespace(),
		Group:         m.GetGroup(),
		Cluster:       m.GetCluster(),
		Zone:          m.GetZone(),
		Host:          m.GetHost(),
		Port:          int(m.GetPort()),
		SecurePort:    int(m.GetSecurePort()),
		SecureEnabled: m.GetSecureEnabled(),
		Scheme:        m.GetScheme(),
		Status:        m.GetStatus(),
		Health:        m.GetHealth(),
		Weight:        m.GetWeight(),
		Disabled:      m.GetDisabled(),
		Ephemeral:     m.GetEphemeral(),
		Metadata:      m.GetMetadata(),
		Tags:          m.GetTags(),
		Labels:        m.GetLabels(),
		Origin:        m.GetOrigin(),
	}
}
