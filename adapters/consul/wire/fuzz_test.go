package wire

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

func FuzzDecodeServiceDefinition(f *testing.F) {
	for _, seed := range []string{
		`{"ID":"web-1","Name":"web","Tags":["a"],"Port":80,"Check":{"TTL":"10s"},"Checks":null}`,
		`{"Name":"web","Check":{"HTTP":"http://x/h","Interval":"10s","Header":{"A":["b"]},"DeregisterCriticalServiceAfter":"1m"}}`,
		`{"Name":"web","Checks":[{"TCP":"x:1","Interval":1000000000},{"TTL":"1s","Status":"passing"}]}`,
		`{"Name":"web","enable_tag_override":true,"tagged_addresses":{"lan":{"Address":"1.2.3.4","Port":1}}}`,
		`{"Name":"web","Check":{"Args":null,"Interval":null,"TTL":"30s","Header":null}}`,
		`{"Name":"w","Weights":{"Passing":1,"Warning":0},"Meta":{"k":"v"}}`,
		`{"Name":`, `[]`, `null`, ``,
	} {
		f.Add([]byte(seed))
	}
	if b, err := os.ReadFile("../testdata/spring-register-ttl.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		def, err := DecodeServiceDefinition(bytes.NewReader(data))
		if err != nil {
			if def != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		checks, err := def.CheckTypes()
		if err == nil {
			for _, c := range checks {
				if c.Validate() != nil {
					t.Fatalf("CheckTypes accepted an invalid check %+v", c)
				}
				_ = c.Kind()
			}
		}
		_ = ValidateMeta(def.Meta)
		_ = ValidateWeights(def.Weights)
		// What decoded once decodes the same after a round trip.
		enc, err := json.Marshal(def)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := DecodeServiceDefinition(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("round trip of %s failed: %v", enc, err)
		}
		if !reflect.DeepEqual(normalized(def), normalized(again)) {
			t.Fatalf("round trip changed the definition:\n%+v\n%+v", def, again)
		}
	})
}

// normalized drops what a round trip may legitimately re-spell.
func normalized(d *ServiceDefinition) ServiceDefinition {
	c := *d
	c.Ports, c.Locality, c.Proxy, c.Connect, c.AI = nil, nil, nil, nil, nil
	c.Check, c.Checks = nil, nil
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	if len(c.Meta) == 0 {
		c.Meta = nil
	}
	if len(c.TaggedAddresses) == 0 {
		c.TaggedAddresses = nil
	}
	return c
}

func FuzzDecodeCheckUpdate(f *testing.F) {
	for _, seed := range []string{`{"Status":"passing","Output":"ok"}`, `{"Status":"x"}`, `{}`, `{"Output":1}`, `nul`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := DecodeCheckUpdate(bytes.NewReader(data))
		if err == nil && u == nil {
			t.Fatal("nil update without error")
		}
	})
}

func FuzzDecodeCheckDefinition(f *testing.F) {
	for _, seed := range []string{
		`{"ID":"c1","Name":"c","ServiceID":"web-1","TTL":"10s"}`,
		`{"Name":"c","service_id":"web-1","HTTP":"http://x","Interval":"5s","Token":"t"}`,
		`{"ID":null,"CheckID":"x"}`, `{}`, `[]`, `null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		def, err := DecodeCheckDefinition(bytes.NewReader(data))
		if err == nil && def == nil {
			t.Fatal("nil definition without error")
		}
		if err == nil {
			_ = def.Check.Validate()
		}
	})
}
