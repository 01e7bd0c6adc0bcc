package v2

import (
	"bytes"
	"encoding/json"
	"maps"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	cases := []Payload{
		{},
		{Type: "InstanceRequest", ClientIP: "10.0.0.1", Headers: map[string]string{"accessToken": "t", "app": ""}, Body: []byte(`{"requestId":"1"}`)},
		{Type: "HealthCheckRequest", Body: []byte(`{}`)},
	}
	for _, p := range cases {
		var got Payload
		if err := got.Unmarshal(p.Marshal()); err != nil {
			t.Fatal(err)
		}
		if got.Type != p.Type || got.ClientIP != p.ClientIP || !bytes.Equal(got.Body, p.Body) || len(got.Headers) != len(p.Headers) || !maps.Equal(got.Headers, p.Headers) {
			t.Fatalf("round trip: got %+v want %+v", got, p)
		}
	}
}

func TestPayloadRejectsTruncatedInput(t *testing.T) {
	full := (&Payload{Type: "InstanceRequest", Body: []byte(`{"a":1}`)}).Marshal()
	for n := 1; n < len(full); n++ {
		var p Payload
		// Every prefix either fails cleanly or decodes to something; it never panics.
		_ = p.Unmarshal(full[:n])
	}
	var p Payload
	if err := p.Unmarshal([]byte{0x12, 0x05, 0x1a}); err == nil {
		t.Fatal("length beyond the input was accepted")
	}
}

// FuzzPayloadDecode feeds arbitrary bytes to the payload decoder and the
// request decoding after it: nothing may panic, and whatever decodes must
// encode and decode to the same value.
func FuzzPayloadDecode(f *testing.F) {
	f.Add((&Payload{Type: "InstanceRequest", Headers: map[string]string{"accessToken": "x"}, Body: []byte(`{"serviceName":"a","instance":{"ip":"1.2.3.4","port":80}}`)}).Marshal())
	f.Add((&Payload{Type: "ConfigBatchListenRequest", Body: []byte(`{"listen":true,"configListenContexts":[{"dataId":"d","group":"g"}]}`)}).Marshal())
	f.Add([]byte{0x12, 0x00, 0x1a, 0x00})
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Payload
		if err := p.Unmarshal(data); err != nil {
			return
		}
		var again Payload
		if err := again.Unmarshal(p.Marshal()); err != nil {
			t.Fatalf("re-decoding an encoded payload failed: %v", err)
		}
		if again.Type != p.Type || again.ClientIP != p.ClientIP || !bytes.Equal(again.Body, p.Body) || !maps.Equal(again.Headers, p.Headers) {
			t.Fatalf("round trip changed the payload: %+v vs %+v", again, p)
		}
		for _, v := range []any{&instanceRequest{}, &batchInstanceRequest{}, &subscribeServiceRequest{}, &configBatchListenRequest{}, &configPublishRequest{}} {
			_ = json.Unmarshal(p.Body, v) // must not panic; errors are answered with 502
		}
	})
}
