package app

import (
	"strings"
)

// ListFlag is a flag.Value for a comma-separated list bound to a
// []string field: --etcd-endpoints a:2379,b:2379. Its default, printed by
// --help, is the field's value joined the same way.
type ListFlag struct{ List *[]string }

// String joins the list with commas.
func (f ListFlag) String() string {
	if f.List == nil {
		return "" // the zero value the flag package makes to compare defaults
	}
	return strings.Join(*f.List, ",")
}

// Set replaces the list with the comma-separated items of v, each
// trimmed of white space; empty items are dropped.
func (f ListFlag) Set(v string) error {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	*f.List = out
	return nil
}
