package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/scenarios/spec"
)

// viewInstance is an instance as one registry API shows it.
type viewInstance struct {
	Addr    string // host:port
	Healthy bool
}

// viewSource is where a registry API is read: the registry-adapter's
// front-end for that API, or a container's port named http (a real
// registry server).
type viewSource struct {
	comp, port string
}

func sourceOf(kind, from string) viewSource {
	if from != "" {
		return viewSource{comp: from, port: spec.ContainerHTTPPort}
	}
	return viewSource{comp: spec.ComponentRegistry, port: kind}
}

// view lists a service's instances through one registry API, the way a
// client of that registry would see them; from names a container serving
// that API instead of the registry-adapter.
func (r *run) view(ctx context.Context, kind, from, service string, labels map[string]string) ([]viewInstance, error) {
	src := sourceOf(kind, from)
	switch kind {
	case "control":
		c, err := r.ctl(ctx)
		if err != nil {
			return nil, err
		}
		list, _, err := c.Instances(ctx, registry.Filter{Service: service, Labels: labels})
		if err != nil {
			return nil, err
		}
		out := make([]viewInstance, 0, len(list))
		for _, in := range list {
			out = append(out, viewInstance{Addr: net.JoinHostPort(in.Host, strconv.Itoa(in.Port)), Healthy: in.Healthy()})
		}
		return out, nil
	case "eureka":
		return r.eurekaView(ctx, src, service)
	case "consul":
		return r.consulView(ctx, src, service)
	case "nacos":
		return r.nacosView(ctx, src, service)
	case spec.ProtocolZooKeeper:
		return r.zookeeperView(ctx, from, service)
	}
	return nil, fmt.Errorf("unknown view %q", kind)
}

func (r *run) viewGet(ctx context.Context, src viewSource, path string, header http.Header, out any) (int, error) {
	addr, err := r.prov.HostAddr(ctx, src.comp, src.port)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 16<<20)).Decode(out)
}

func (r *run) eurekaView(ctx context.Context, src viewSource, service string) ([]viewInstance, error) {
	var body struct {
		Application struct {
			Instance []struct {
				IPAddr   string `json:"ipAddr"`
				HostName string `json:"hostName"`
				Status   string `json:"status"`
				Port     struct {
					Value json.Number `json:"$"`
				} `json:"port"`
			} `json:"instance"`
		} `json:"application"`
	}
	code, err := r.viewGet(ctx, src, "/eureka/apps/"+url.PathEscape(strings.ToUpper(service)), http.Header{"Accept": {"application/json"}}, &body)
	if err != nil || code == http.StatusNotFound {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("eureka view answered %d", code)
	}
	var out []viewInstance
	for _, in := range body.Application.Instance {
		host := in.IPAddr
		if host == "" {
			host = in.HostName
		}
		out = append(out, viewInstance{Addr: net.JoinHostPort(host, in.Port.Value.String()), Healthy: in.Status == "UP"})
	}
	return out, nil
}

func (r *run) consulView(ctx context.Context, src viewSource, service string) ([]viewInstance, error) {
	var body []struct {
		Node struct {
			Address string `json:"Address"`
		} `json:"Node"`
		Service struct {
			Address string `json:"Address"`
			Port    int    `json:"Port"`
		} `json:"Service"`
		Checks []struct {
			Status string `json:"Status"`
		} `json:"Checks"`
	}
	code, err := r.viewGet(ctx, src, "/v1/health/service/"+url.PathEscape(service), nil, &body)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("consul view answered %d", code)
	}
	var out []viewInstance
	for _, e := range body {
		host := e.Service.Address
		if host == "" {
			host = e.Node.Address
		}
		healthy := true
		for _, c := range e.Checks {
			healthy = healthy && c.Status == "passing"
		}
		out = append(out, viewInstance{Addr: net.JoinHostPort(host, strconv.Itoa(e.Service.Port)), Healthy: healthy})
	}
	return out, nil
}

func (r *run) nacosView(ctx context.Context, src viewSource, service string) ([]viewInstance, error) {
	var body struct {
		Hosts []struct {
			IP      string `json:"ip"`
			Port    int    `json:"port"`
			Healthy bool   `json:"healthy"`
		} `json:"hosts"`
	}
	code, err := r.viewGet(ctx, src, "/nacos/v1/ns/instance/list?serviceName="+url.QueryEscape(service), nil, &body)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("nacos view answered %d", code)
	}
	var out []viewInstance
	for _, h := range body.Hosts {
		out = append(out, viewInstance{Addr: net.JoinHostPort(h.IP, strconv.Itoa(h.Port)), Healthy: h.Healthy})
	}
	return out, nil
}
