package naming

import (
	"fmt"
	"strings"

	"github.com/meshbridge/meshbridge/registry"
)

// Namespace maps Nacos's namespace id to the registry's: "" and "public"
// are the same namespace (Java config clients send "", newer ones "public").
func Namespace(ns string) string {
	if ns = strings.TrimSpace(ns); ns == "" {
		return DefaultNamespace
	}
	return ns
}

// Group applies the default group.
func Group(g string) string {
	if g = strings.TrimSpace(g); g == "" {
		return DefaultGroup
	}
	return g
}

// GroupedName gives "group@@service", the form v1 answers carry.
func GroupedName(group, service string) string {
	return Group(group) + GroupSeparator + service
}

// SplitServiceName splits a possibly grouped name. A name without "@@"
// belongs to group (or the default group), as Nacos's ServiceNameFilter does.
func SplitServiceName(name, group string) (string, string, error) {
	g, s, grouped := strings.Cut(name, GroupSeparator)
	if !grouped {
		s, g = name, group
	}
	s = strings.TrimSpace(s)
	if s == "" || (grouped && strings.TrimSpace(g) == "") || strings.Contains(s, GroupSeparator) {
		return "", "", fmt.Errorf("Param 'serviceName' is illegal, it should be format as 'groupName@@serviceName'")
	}
	if !registry.ValidName(s) {
		return "", "", fmt.Errorf("Param 'serviceName' is illegal, it %s", registry.NameRule)
	}
	return Group(g), s, nil
}

// ValidCluster reports whether a cluster name has Nacos's allowed shape
// (letters, digits and '-').
func ValidCluster(c string) bool {
	if c == "" || len(c) > registry.MaxNameLength {
		return false
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Clusters splits a comma-separated cluster list, dropping blanks.
func Clusters(list string) []string {
	var out []string
	for c := range strings.SplitSeq(list, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// InstanceID is Nacos's "simple" instance id: ip#port#cluster#group@@service.
func InstanceID(ip string, port int, cluster, group, service string) string {
	return fmt.Sprintf("%s#%d#%s#%s", ip, port, cluster, GroupedName(group, service))
}
