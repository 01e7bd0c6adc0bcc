// Command testplugin is the host tests' plugin: one binary whose flags make
// it slow, failing, spawning a child, or reporting what it saw, so the
// tests can drive every path of the host through a real process.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/plugins/sdk"
	"github.com/meshbridge/meshbridge/plugins/sdk/pluginhost"
)

func main() {
	delay := flag.Duration("delay", 0, "sleep this long in every request phase, ignoring the deadline")
	failStart := flag.String("fail-start", "", "print this to stderr and exit 3 instead of serving")
	failIfExists := flag.String("fail-start-if-exists", "", "fail to start (as -fail-start) while this file exists")
	bodyLimit := flag.Int("body-limit", 0, "request body bytes to ask for")
	response := flag.Bool("response", false, "serve a response phase that adds X-Response-Phase")
	responseFail := flag.Bool("response-fail", false, "fail every response phase")
	deny := flag.String("deny-path", "", "answer 418 directly for this path")
	huge := flag.String("huge-answer-path", "", "answer directly with a 9 MiB body for this path (over the host's limit)")
	echoEnv := flag.String("echo-env", "", "comma-separated variables to report in X-Env-<NAME> request headers")
	child := flag.Bool("child", false, "start a long sleep child process and report its pid in X-Child-Pid")
	transform := flag.String("transform", "", "instance transformer mode: tag, fail, change-id or invalid")
	impostor := flag.String("announce-socket", "", "announce this socket (another process's) in the handshake instead of serving, as a process of the same user writing into the plugin's stdout could")
	flag.Parse()
	sdk.RequireHost()
	if *impostor != "" {
		announce(*impostor)
		return
	}
	if *failIfExists != "" {
		if _, err := os.Stat(*failIfExists); err == nil {
			*failStart = "refusing to start: " + *failIfExists + " exists"
		}
	}
	if *failStart != "" {
		fmt.Fprintln(os.Stderr, *failStart)
		os.Exit(3)
	}
	log := sdk.Logger()

	childPid := 0
	if *child {
		cmd := exec.Command("sleep", "600")
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "start child:", err)
			os.Exit(3)
		}
		childPid = cmd.Process.Pid
	}

	h := &handler{delay: *delay, deny: *deny, huge: *huge, childPid: childPid, responseFail: *responseFail}
	if *echoEnv != "" {
		h.echoEnv = strings.Split(*echoEnv, ",")
	}
	cfg := sdk.ServeConfig{Request: h, RequestBodyLimit: *bodyLimit}
	if *response || *responseFail {
		cfg.Response = h
	}
	if *transform != "" {
		cfg.Instances = transformer(*transform)
	}
	log.Info("test plugin ready", "pid", os.Getpid(), "transform", *transform)
	sdk.Serve(cfg)
}

type handler struct {
	delay        time.Duration
	deny         string
	huge         string
	echoEnv      []string
	childPid     int
	responseFail bool
}

func (h *handler) HandleRequest(_ context.Context, req *sdk.Request) (*sdk.RequestResult, error) {
	if h.delay > 0 {
		time.Sleep(h.delay)
	}
	if h.deny != "" && req.Path == h.deny {
		return sdk.Reply(http.StatusTeapot, http.Header{"X-Denied-By": {"testplugin"}}, []byte("denied\n")), nil
	}
	if h.huge != "" && req.Path == h.huge {
		return sdk.Reply(http.StatusOK, nil, make([]byte, 9<<20)), nil
	}
	set := http.Header{"X-Plugin-Pid": {strconv.Itoa(os.Getpid())}}
	if req.Body != nil {
		set.Set("X-Body-Seen", string(req.Body))
		set.Set("X-Body-Truncated", strconv.FormatBool(req.BodyTruncated))
	}
	for _, k := range h.echoEnv {
		set.Set("X-Env-"+k, os.Getenv(k))
	}
	if h.childPid != 0 {
		set.Set("X-Child-Pid", strconv.Itoa(h.childPid))
	}
	return &sdk.RequestResult{Header: sdk.HeaderChanges{Set: set}, State: req.Path}, nil
}

func (h *handler) HandleResponse(_ context.Context, resp *sdk.ResponseInfo) (*sdk.ResponseResult, error) {
	if h.responseFail {
		return nil, errors.New("response phase broken on purpose")
	}
	return &sdk.ResponseResult{Header: sdk.HeaderChanges{Set: http.Header{
		"X-Response-Phase": {fmt.Sprintf("status=%d state=%s", resp.Status, resp.State)},
	}}}, nil
}

func transformer(mode string) sdk.InstanceTransformerFunc {
	return func(_ context.Context, in *sdk.Instance) (*sdk.Instance, error) {
		switch mode {
		case "fail":
			return nil, errors.New("transformer broken on purpose")
		case "change-id":
			in.ID += "-renamed"
		case "invalid":
			in.Status = "SLEEPY"
		}
		if in.Metadata == nil {
			in.Metadata = map[string]string{}
		}
		in.Metadata["seen-by"] = "testplugin"
		return in, nil
	}
}

// announce writes go-plugin's handshake line naming socket, with a
// certificate of its own, and waits to be killed.
func announce(socket string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		os.Exit(3)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		os.Exit(3)
	}
	fmt.Printf("1|%d|unix|%s|grpc|%s\n", pluginhost.Handshake.ProtocolVersion, socket, base64.RawStdEncoding.EncodeToString(der))
	time.Sleep(time.Minute)
}
