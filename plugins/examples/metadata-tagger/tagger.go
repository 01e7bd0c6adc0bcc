package main

import (
	"context"
	"log/slog"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// tagger checks required metadata, then sets and defaults keys.
type tagger struct {
	set      map[string]string
	defaults map[string]string
	required []string
}

func (t *tagger) TransformInstance(_ context.Context, in *sdk.Instance) (*sdk.Instance, error) {
	for _, k := range t.required {
		if in.Metadata[k] == "" {
			slog.Info("rejecting instance", "service", in.Service, "id", in.ID, "missing", k)
			return nil, sdk.Reject("instance %s of %s has no metadata %q, which this registry requires", in.ID, in.Service, k)
		}
	}
	if in.Metadata == nil {
		in.Metadata = map[string]string{}
	}
	for k, v := range t.defaults {
		if _, ok := in.Metadata[k]; !ok {
			in.Metadata[k] = v
		}
	}
	for k, v := range t.set {
		in.Metadata[k] = v
	}
	return in, nil
}
