package runner

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// nacosEnableURL is the Nacos Open API call that enables or disables the
// instance of service registered at addr (host:port), as an operator or
// Spring Cloud Alibaba's serviceregistry endpoint (status DOWN/UP) does:
// PUT /nacos/v1/ns/instance with enabled. Nacos lists a disabled instance
// to no client, so its legacy callers drop it at the next push; the
// syncer finds it in Nacos's catalog and keeps its mesh copy, out of
// service.
func nacosEnableURL(server, service, addr string, enabled bool) string {
	host, port, _ := net.SplitHostPort(addr) // an address the runner planned
	q := url.Values{"serviceName": {service}, "ip": {host}, "port": {port}, "enabled": {strconv.FormatBool(enabled)}}
	return fmt.Sprintf("http://%s/nacos/v1/ns/instance?%s", server, q.Encode())
}
