package registry

import (
	"errors"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"orders", true},
		{"10.0.0.5:orders:8080", true},
		{"DEFAULT_GROUP", true},
		{"host#8080#DEFAULT#DEFAULT_GROUP@@orders", true}, // a Nacos instance id
		{"café", true},
		{"with space", true},
		{"...", true},
		{".hidden", true},
		{strings.Repeat("x", MaxNameLength), true},
		{"", false},
		{strings.Repeat("x", MaxNameLength+1), false},
		{"a/b", false},
		{".", false},
		{"..", false},
		{"a\x00b", false},
		{"a\tb", false},
		{"a\x7fb", false},
		{"a\u0085b", false}, // C1 control (NEL)
		{"svc\uFFFE", false},
		{"svc\uFFFF", false},
		{"svc\uFDD0", false},
		{"svc\U0001FFFF", false},
		{"svc\xff", false}, // not UTF-8
	} {
		if got := ValidName(tc.name); got != tc.want {
			t.Errorf("ValidName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestValidHost(t *testing.T) {
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"10.0.0.1", true},
		{"::1", true},
		{"2001:db8::5", true},
		{"::ffff:10.0.0.1", true},
		{"fe80::1%eth0", true},
		{"fe80::1%eth0.100", true},
		{"localhost", true},
		{"orders-7d9f.default.svc.cluster.local", true},
		{"app_web_1", true}, // Docker Compose container name
		{"host.example.com.", true},
		{"xn--caf-dma.example", true},
		{strings.Repeat("a", 63) + ".example", true},
		{"", false},
		{".", false},
		{"10.0.0.1\x01", false},
		{"a\x00b", false},
		{"h\r\nX-Injected: 1", false},
		{"my host", false},
		{"[::1]", false},
		{"10.0.0.1:8080", false},
		{"fe80::1%", false},
		{"10.0.0.1%eth0", false},
		{"a..b", false},
		{".example", false},
		{strings.Repeat("a", 64) + ".example", false},
		{strings.Repeat("abc.", 64) + "com", false}, // 259 bytes
		{"café.example", false},
		{"host/path", false},
		{"user@host", false},
	} {
		if got := ValidHost(tc.host); got != tc.want {
			t.Errorf("ValidHost(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

func TestValidValueAndScrub(t *testing.T) {
	for _, tc := range []struct {
		value, scrubbed string
	}{
		{"plain", "plain"},
		{"tab\tnew\nline\r", "tab\tnew\nline\r"},
		{"C1 \u0085 and U+FDD0 \uFDD0 are XML 1.0 characters", "C1 \u0085 and U+FDD0 \uFDD0 are XML 1.0 characters"},
		{"a real \uFFFD", "a real \uFFFD"},
		{"\U0001F600", "\U0001F600"},
		{"bell\x07", "bell\uFFFD"},
		{"nul\x00", "nul\uFFFD"},
		{"esc\x1b[0m", "esc\uFFFD[0m"},
		{"\uFFFE\uFFFF", "\uFFFD\uFFFD"},
		{"bad \xff\xfe bytes", "bad \uFFFD bytes"},
	} {
		valid := tc.value == tc.scrubbed
		if got := ValidValue(tc.value); got != valid {
			t.Errorf("ValidValue(%q) = %v, want %v", tc.value, got, valid)
		}
		got := ScrubValue(tc.value)
		if got != tc.scrubbed {
			t.Errorf("ScrubValue(%q) = %q, want %q", tc.value, got, tc.scrubbed)
		}
		if !ValidValue(got) {
			t.Errorf("ScrubValue(%q) = %q is not a valid value", tc.value, got)
		}
	}
}

// TestValidateRefusesWhatAViewCannotCarry changes one field of a valid
// instance at a time to what some view could not carry, and expects the
// error to name that field.
func TestValidateRefusesWhatAViewCannotCarry(t *testing.T) {
	valid := func() *Instance {
		i := &Instance{ID: "orders-1", Service: "orders", Host: "10.0.0.1", Port: 8080, Origin: OriginControl,
			Metadata: map[string]string{"version": "v1"}, Tags: []string{"a"}}
		i.Normalize()
		return i
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid instance refused: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Instance)
		field  string
	}{
		{"id .", func(i *Instance) { i.ID = "." }, "id"},
		{"id ..", func(i *Instance) { i.ID = ".." }, "id"},
		{"id with NUL", func(i *Instance) { i.ID = "a\x00" }, "id"},
		{"service with U+FFFE", func(i *Instance) { i.Service = "orders\uFFFE" }, "service"},
		{"service with the group separator", func(i *Instance) { i.Service = "grp@@svc" }, "service"},
		{"service ..", func(i *Instance) { i.Service = ".." }, "service"},
		{"group with the group separator", func(i *Instance) { i.Group = "a@@b" }, "group"},
		{"group ending in @", func(i *Instance) { i.Group = "grp@" }, "group"},
		{"namespace with a control character", func(i *Instance) { i.Namespace = "ns\x01" }, "namespace"},
		{"host with U+0001", func(i *Instance) { i.Host = "10.0.0.1\x01" }, "host"},
		{"host with NUL", func(i *Instance) { i.Host = "a\x00b" }, "host"},
		{"host with CRLF", func(i *Instance) { i.Host = "h\r\nX-Injected: 1" }, "host"},
		{"host in brackets", func(i *Instance) { i.Host = "[::1]" }, "host"},
		{"zone with a control character", func(i *Instance) { i.Zone = "eu\x01" }, "zone"},
		{"cluster with U+FFFF", func(i *Instance) { i.Cluster = "c\uFFFF" }, "cluster"},
		{"scheme with CR", func(i *Instance) { i.Scheme = "http\r" }, "scheme"},
		{"origin with NUL", func(i *Instance) { i.Origin = "sync:\x00" }, "origin"},
		{"metadata value with U+0001", func(i *Instance) { i.Metadata["version"] = "v\x01" }, "metadata.version"},
		{"metadata value with U+FFFE", func(i *Instance) { i.Metadata["version"] = "v\uFFFE" }, "metadata.version"},
		{"metadata value not UTF-8", func(i *Instance) { i.Metadata["version"] = "v\xff" }, "metadata.version"},
		{"metadata key with a newline", func(i *Instance) { i.Metadata["a\nb"] = "x" }, `metadata."a\nb"`},
		{"label value with U+0008", func(i *Instance) { i.Labels = map[string]string{"tier": "\b"} }, "labels.tier"},
		{"attribute value with U+FFFF", func(i *Instance) { i.Attributes = map[string]string{"eureka.vipAddress": "\uFFFF"} }, "attributes.eureka.vipAddress"},
		{"tag with U+001B", func(i *Instance) { i.Tags = []string{"ok", "\x1b"} }, "tags[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := valid()
			tc.change(i)
			err := i.Validate()
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want a ValidationError", err)
			}
			if ve.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", ve.Field, tc.field, err)
			}
		})
	}
}
