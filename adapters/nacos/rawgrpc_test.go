package nacos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	v2 "github.com/meshbridge/meshbridge/adapters/nacos/v2"
	"github.com/meshbridge/meshbridge/internal/poll"
)

// rawCodec lets a test speak the Nacos proto without generated code.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)   { return v.(*v2.Payload).Marshal(), nil }
func (rawCodec) Unmarshal(b []byte, v any) error { return v.(*v2.Payload).Unmarshal(b) }
func (rawCodec) Name() string                    { return "proto" }

// rawClient is a hand-driven Nacos gRPC client, for what the SDK never
// sends (bad payloads, unknown types) and for not answering probes.
type rawClient struct {
	t      testing.TB
	cc     *grpc.ClientConn
	stream grpc.ClientStream
	pushes chan *v2.Payload
}

func dialRaw(t testing.TB, e *env, setup bool) *rawClient {
	t.Helper()
	cc, err := grpc.NewClient(e.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	c := &rawClient{t: t, cc: cc, pushes: make(chan *v2.Payload, 64)}
	c.call("ServerCheckRequest", map[string]any{"module": "internal"})
	if setup {
		c.openStream()
		c.send("ConnectionSetupRequest", map[string]any{"clientVersion": "raw-test", "labels": map[string]string{"module": "naming"}})
		// Setup is asynchronous, as for real clients: wait until the
		// server answers requests instead of UN_REGISTER.
		poll.Until(t, "connection registered", func() bool {
			_, r := c.call("HealthCheckRequest", map[string]any{"module": "internal"})
			return r["success"] == true
		}, poll.Within(2*time.Second))
	}
	return c
}

func (c *rawClient) openStream() {
	s, err := c.cc.NewStream(context.Background(), &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, "/BiRequestStream/requestBiStream")
	if err != nil {
		c.t.Fatal(err)
	}
	c.stream = s
	go func() {
		for {
			var p v2.Payload
			if err := s.RecvMsg(&p); err != nil {
				close(c.pushes)
				return
			}
			c.pushes <- &p
		}
	}()
}

func (c *rawClient) send(typ string, body any) {
	b, _ := json.Marshal(body)
	if err := c.stream.SendMsg(&v2.Payload{Type: typ, Body: b}); err != nil {
		c.t.Fatal(err)
	}
}

// call sends a unary request and returns the response type and JSON.
func (c *rawClient) call(typ string, body any) (string, map[string]any) {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(body)
	}
	resp, err := c.callPayload(&v2.Payload{Type: typ, Body: raw, Headers: map[string]string{}})
	if err != nil {
		c.t.Fatalf("%s: %v", typ, err)
	}
	var m map[string]any
	if err := json.Unmarshal(resp.Body, &m); err != nil {
		c.t.Fatalf("%s: response is not JSON: %q", typ, resp.Body)
	}
	return resp.Type, m
}

func (c *rawClient) callPayload(p *v2.Payload) (*v2.Payload, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var resp v2.Payload
	err := c.cc.Invoke(ctx, "/Request/request", p, &resp)
	return &resp, err
}

// nextPush waits for a server request of the given type.
func (c *rawClient) nextPush(typ string, within time.Duration) map[string]any {
	c.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case p, ok := <-c.pushes:
			if !ok {
				c.t.Fatalf("stream closed while waiting for %s", typ)
			}
			if p.Type != typ {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(p.Body, &m); err != nil {
				c.t.Fatal(err)
			}
			return m
		case <-deadline:
			c.t.Fatalf("no %s within %v", typ, within)
		}
	}
}

func register(c *rawClient, service, ip string, port int) (string, map[string]any) {
	return c.call("InstanceRequest", map[string]any{
		"requestId": "r1", "namespace": "public", "serviceName": service, "groupName": "DEFAULT_GROUP", "module": "naming",
		"type":     "registerInstance",
		"instance": map[string]any{"ip": ip, "port": port, "weight": 1.0, "healthy": true, "enabled": true, "ephemeral": true, "clusterName": "DEFAULT"},
	})
}

func TestGRPCBadInputAnsweredAsNacosAndChangesNothing(t *testing.T) {
	e := startEnv(t, testOptions())
	unset := dialRaw(t, e, false)
	typ, r := unset.call("InstanceRequest", map[string]any{"serviceName": "x"})
	if typ != "ErrorResponse" || r["errorCode"] != 301.0 || r["resultCode"] != 500.0 {
		t.Fatalf("request before connection setup: %s %v, want ErrorResponse 301", typ, r)
	}

	c := dialRaw(t, e, true)
	rev := e.store.Revision()
	cases := []struct {
		name, typ string
		body      any
		wantType  string
		wantCode  float64
	}{
		{"unknown request type", "NoSuchRequest", map[string]any{"requestId": "1"}, "ErrorResponse", 302},
		{"empty type", "", map[string]any{}, "ErrorResponse", 302},
		{"body is not JSON", "InstanceRequest", []byte("{not json"), "ErrorResponse", 502},
		{"field of the wrong type", "InstanceRequest", []byte(`{"serviceName":"a","instance":{"port":"eighty"}}`), "ErrorResponse", 502},
		{"missing ip", "InstanceRequest", map[string]any{"serviceName": "a", "type": "registerInstance", "instance": map[string]any{"port": 80}}, "ErrorResponse", 400},
		{"bad weight", "InstanceRequest", map[string]any{"serviceName": "a", "type": "registerInstance", "instance": map[string]any{"ip": "1.2.3.4", "port": 80, "weight": 20000}}, "ErrorResponse", 400},
		{"bad instance op", "InstanceRequest", map[string]any{"serviceName": "a", "type": "explode", "instance": map[string]any{"ip": "1.2.3.4", "port": 80}}, "ErrorResponse", 400},
		{"blank service name", "InstanceRequest", map[string]any{"serviceName": "", "type": "registerInstance", "instance": map[string]any{"ip": "1.2.3.4", "port": 80}}, "ErrorResponse", 400},
		// What no view of the registry can carry (nacos-sdk-go answers an
		// ErrorResponse by reconnecting and registering again, so these are
		// sent raw).
		{"ip with CRLF", "InstanceRequest", map[string]any{"serviceName": "a", "type": "registerInstance", "instance": map[string]any{"ip": "h\r\nX-Injected: 1", "port": 80}}, "ErrorResponse", 400},
		{"ip with a space", "InstanceRequest", map[string]any{"serviceName": "a", "type": "registerInstance", "instance": map[string]any{"ip": "10.0.0.1 x", "port": 80}}, "ErrorResponse", 400},
		{"metadata value with U+0001", "InstanceRequest", map[string]any{"serviceName": "a", "type": "registerInstance", "instance": map[string]any{"ip": "1.2.3.4", "port": 80, "metadata": map[string]string{"version": "v\x01"}}}, "ErrorResponse", 400},
		{"service name with U+FFFE", "InstanceRequest", map[string]any{"serviceName": "a\uFFFE", "type": "registerInstance", "instance": map[string]any{"ip": "1.2.3.4", "port": 80}}, "ErrorResponse", 400},
		{"bad dataId", "ConfigPublishRequest", map[string]any{"dataId": "a/b", "group": "G", "content": "x"}, "ErrorResponse", 400},
		{"missing config", "ConfigQueryRequest", map[string]any{"dataId": "nope", "group": "G"}, "ConfigQueryResponse", 300},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			typ, r := c.call(tc.typ, tc.body)
			if typ != tc.wantType || r["errorCode"] != tc.wantCode || r["success"] != false || r["resultCode"] != 500.0 {
				t.Fatalf("got %s %v, want %s errorCode %v", typ, r, tc.wantType, tc.wantCode)
			}
		})
	}
	// Oversized messages are refused by gRPC itself, as grpc-java does.
	big := make([]byte, 11<<20)
	_, err := c.callPayload(&v2.Payload{Type: "InstanceRequest", Body: big})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("oversized message: %v, want ResourceExhausted", err)
	}
	if got := e.store.Revision(); got != rev {
		t.Fatalf("bad input changed the store: revision %d -> %d", rev, got)
	}
	// The connection still works afterwards.
	if typ, r := register(c, "ok-service", "10.1.1.1", 80); typ != "InstanceResponse" || r["success"] != true {
		t.Fatalf("register after bad input: %s %v", typ, r)
	}
}

func TestGRPCPushIsAcknowledgedAndConfigChangesNotified(t *testing.T) {
	e := startEnv(t, testOptions())
	c := dialRaw(t, e, true)
	typ, r := c.call("SubscribeServiceRequest", map[string]any{"namespace": "public", "serviceName": "svc", "groupName": "DEFAULT_GROUP", "subscribe": true, "clusters": ""})
	if typ != "SubscribeServiceResponse" || r["success"] != true {
		t.Fatalf("subscribe: %s %v", typ, r)
	}
	info := r["serviceInfo"].(map[string]any)
	if info["name"] != "svc" || info["groupName"] != "DEFAULT_GROUP" || info["hosts"] == nil {
		t.Fatalf("subscribe snapshot: %v", info)
	}
	lastRef := info["lastRefTime"].(float64)
	other := dialRaw(t, e, true)
	register(other, "svc", "10.2.2.2", 81)
	push := c.nextPush("NotifySubscriberRequest", time.Second)
	pi := push["serviceInfo"].(map[string]any)
	hosts := pi["hosts"].([]any)
	if len(hosts) != 1 || pi["name"] != "svc" || pi["lastRefTime"].(float64) <= lastRef || push["headers"] == nil {
		t.Fatalf("push: %v", push)
	}
	// Acknowledge as clients do; an unacknowledged push is sent again.
	c.send("NotifySubscriberResponse", map[string]any{"requestId": push["requestId"], "resultCode": 200, "success": true})

	typ, r = c.call("ConfigBatchListenRequest", map[string]any{"listen": true, "configListenContexts": []map[string]any{{"dataId": "d1", "group": "G", "md5": "", "tenant": ""}}})
	if typ != "ConfigChangeBatchListenResponse" || len(r["changedConfigs"].([]any)) != 0 {
		t.Fatalf("batch listen: %s %v", typ, r)
	}
	postForm(t, e, "/nacos/v1/cs/configs", "dataId=d1&group=G&tenant=public&content=hello")
	n := c.nextPush("ConfigChangeNotifyRequest", time.Second)
	if n["dataId"] != "d1" || n["group"] != "G" || n["tenant"] != "" {
		t.Fatalf("config notice: %v (tenant must be echoed as the client spelled it)", n)
	}
}

func TestGRPCUnansweredProbeEjectsConnection(t *testing.T) {
	o := testOptions()
	o.GRPC.KeepAlive = 200 * time.Millisecond
	o.GRPC.ProbeTimeout = 200 * time.Millisecond
	e := startEnv(t, o)
	c := dialRaw(t, e, true)
	register(c, "silent", "10.3.3.3", 82)
	if len(listService(t, e.store, "silent")) != 1 {
		t.Fatal("not registered")
	}
	// The raw client never answers the ClientDetectionRequest.
	c.nextPush("ClientDetectionRequest", 2*time.Second)
	poll.Until(t, "silent connection's instance removed", func() bool { return len(listService(t, e.store, "silent")) == 0 }, poll.Within(3*time.Second))
}

func TestGRPCInstancesExpireWhenAdapterStopsWithoutCleanup(t *testing.T) {
	o := testOptions()
	o.GRPC.ConnectionLease = 600 * time.Millisecond
	e := startEnv(t, o)
	c := dialRaw(t, e, true)
	register(c, "orphan", "10.4.4.4", 83)
	// Renewal keeps it past its lease while the connection lives.
	time.Sleep(1200 * time.Millisecond)
	if len(listService(t, e.store, "orphan")) != 1 {
		t.Fatal("instance expired although its connection is alive")
	}
	// Stop the gRPC server: a draining server keeps the instances (a
	// replica may take the client over) and stops renewing them, which is
	// what happens when the process dies.
	if err := e.stopGRPC(); err != nil {
		t.Fatal(err)
	}
	if len(listService(t, e.store, "orphan")) != 1 {
		t.Fatal("drain removed the instance")
	}
	poll.Until(t, "lease expiry of the orphaned instance", func() bool { return len(listService(t, e.store, "orphan")) == 0 }, poll.Within(3*time.Second))
}

func TestGRPCAuth(t *testing.T) {
	o := testOptions()
	o.Auth.Enabled = true
	o.Auth.Secret = "0123456789abcdef0123456789abcdef"
	o.Auth.Users = map[string]string{"nacos": "s3cret"}
	e := startEnv(t, o)
	c := dialRaw(t, e, true)
	for _, hdr := range []map[string]string{nil, {"accessToken": "forged.token"}, {"User-Agent": "Nacos-Server"}} {
		b, _ := json.Marshal(map[string]any{"serviceName": "locked", "type": "registerInstance", "instance": map[string]any{"ip": "1.1.1.1", "port": 1}})
		resp, err := c.callPayload(&v2.Payload{Type: "InstanceRequest", Body: b, Headers: hdr})
		if err != nil {
			t.Fatal(err)
		}
		var r map[string]any
		json.Unmarshal(resp.Body, &r)
		if resp.Type != "InstanceResponse" || r["errorCode"] != 403.0 || r["success"] != false {
			t.Fatalf("headers %v: %s %v, want InstanceResponse 403", hdr, resp.Type, r)
		}
	}
	if len(listService(t, e.store, "locked")) != 0 {
		t.Fatal("unauthenticated register changed the store")
	}
	// The SDK logs in over HTTP and sends the token in the metadata headers.
	sdk := e.namingClient(t, withAuth("nacos", "s3cret")...)
	rec := &pushRecorder{}
	if err := sdk.Subscribe(ptr(subscribeParam("locked", rec))); err != nil {
		t.Fatal(err)
	}
	if ok, err := sdk.RegisterInstance(registerParam("locked", "10.5.5.5", 84)); err != nil || !ok {
		t.Fatalf("authenticated register: %v %v", ok, err)
	}
	if len(listService(t, e.store, "locked")) != 1 {
		t.Fatal("authenticated register did not reach the store")
	}
}

// The replacement rule is tested on the raw client, not the SDK: the SDK
// replays its cached registration when it sees its own startup connection
// event, asynchronously, so under load it can send the first register again
// after the second, which any server (Nacos's own too) would then keep.
func TestGRPCSecondRegisterOnOneConnectionReplacesFirst(t *testing.T) {
	e := startEnv(t, testOptions())
	c := dialRaw(t, e, true)
	for _, port := range []int{8001, 8002} {
		if typ, r := register(c, "cart", "10.0.2.1", port); r["success"] != true {
			t.Fatalf("register %d: %s %v", port, typ, r)
		}
	}
	insts := listService(t, e.store, "cart")
	if len(insts) != 1 || insts[0].Port != 8002 {
		t.Fatalf("want only the second registration (as Nacos keeps one per connection and service), got %+v", insts)
	}
	instance := func(port int) map[string]any {
		return map[string]any{"ip": "10.0.2.1", "port": port, "weight": 1.0, "healthy": true, "enabled": true, "ephemeral": true, "clusterName": "DEFAULT"}
	}
	typ, r := c.call("BatchInstanceRequest", map[string]any{
		"requestId": "r2", "namespace": "public", "serviceName": "cart", "groupName": "DEFAULT_GROUP", "module": "naming",
		"type": "batchRegisterInstance", "instances": []any{instance(8003), instance(8004)},
	})
	if r["success"] != true {
		t.Fatalf("batch register: %s %v", typ, r)
	}
	insts = listService(t, e.store, "cart")
	if len(insts) != 2 || insts[0].Port+insts[1].Port != 8003+8004 {
		t.Fatalf("batch should replace the set with two instances, got %+v", insts)
	}
}

// A call whose header list (gRPC metadata) is over the limit is refused
// before it reaches the server's handlers; one within it is served. A
// grpc-go client refuses to send it, having learnt the limit from the
// server's settings; a client that ignores them has its stream reset.
func TestGRPCHeaderListIsBounded(t *testing.T) {
	e := startEnv(t, testOptions())
	c := dialRaw(t, e, false)
	cases := []struct {
		name     string
		metadata int
		served   bool
	}{
		{"8 KiB of metadata", 8 << 10, true},
		{"1 MiB of metadata", 1 << 20, false},
	}
	for _, tc := range cases {
		t.Run("grpc-go, "+tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ctx = metadata.AppendToOutgoingContext(ctx, "x-padding", strings.Repeat("a", tc.metadata))
			var resp v2.Payload
			err := c.cc.Invoke(ctx, "/Request/request", &v2.Payload{Type: "ServerCheckRequest", Body: []byte(`{}`)}, &resp)
			if served := err == nil && resp.Type == "ServerCheckResponse"; served != tc.served {
				t.Fatalf("served %v (%v, %q), want %v", served, err, resp.Type, tc.served)
			}
		})
		t.Run("raw HTTP/2, "+tc.name, func(t *testing.T) {
			if served := rawH2Call(t, e.grpcAddr, tc.metadata); served != tc.served {
				t.Fatalf("served %v, want %v", served, tc.served)
			}
		})
	}
}

// rawH2Call opens a gRPC stream with a padding header of the given size,
// ignoring the server's header list limit, and tells whether the server
// answered it (response headers) rather than resetting it.
func rawH2Call(t *testing.T, addr string, padding int) bool {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", "/Request/request"},
		{":authority", addr}, {"content-type", "application/grpc"}, {"te", "trailers"}, {"x-padding", strings.Repeat("a", padding)}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	// The block goes out in frames of the default 16 KiB maximum.
	const frame = 16 << 10
	b := block.Bytes()
	first := b[:min(frame, len(b))]
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: first, EndHeaders: len(b) <= frame}); err != nil {
		t.Fatal(err)
	}
	for rest := b[len(first):]; len(rest) > 0; {
		n := min(frame, len(rest))
		if err := fr.WriteContinuation(1, n == len(rest), rest[:n]); err != nil {
			return false // the server gave up on the connection mid-block
		}
		rest = rest[n:]
	}
	msg := (&v2.Payload{Type: "ServerCheckRequest", Body: []byte(`{}`)}).Marshal()
	data := append([]byte{0, byte(len(msg) >> 24), byte(len(msg) >> 16), byte(len(msg) >> 8), byte(len(msg))}, msg...)
	if err := fr.WriteData(1, true, data); err != nil {
		return false
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return false // closed without answering the stream
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.HeadersFrame:
			if f.StreamID == 1 {
				return true
			}
		case *http2.RSTStreamFrame, *http2.GoAwayFrame:
			return false
		}
	}
}
