package main

import (
	"strconv"
	"strings"

	"github.com/meshbridge/meshbridge/sidecar/config"
)

// portsFlag is --service-ports bound to service.ports: rest:8080,grpc:9090,
// a protocol after a second colon where it is not the name's default.
type portsFlag struct{ ports *[]config.Port }

func (f portsFlag) String() string {
	if f.ports == nil {
		return "" // the zero value the flag package makes to compare defaults
	}
	var parts []string
	for _, p := range *f.ports {
		part := p.Name + ":" + strconv.Itoa(p.Port)
		if p.Protocol != "" && p.Protocol != config.DefaultProtocol(p.Name) {
			part += ":" + p.Protocol
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ",")
}

func (f portsFlag) Set(v string) error {
	ports, err := config.ParsePorts(v)
	if err != nil {
		return err
	}
	*f.ports = ports
	return nil
}
