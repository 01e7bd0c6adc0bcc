package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func serveUntilSignal(addr string, h http.Handler) error {
	ctx, stop := signalContext()
	defer stop()
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, Protocols: p}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// serveConns accepts TCP connections on addr until SIGINT or SIGTERM and
// hands each to handle on its own goroutine.
func serveConns(addr string, handle func(net.Conn)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go handle(c)
	}
}

func runEcho(args []string) error {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:18080", "listen address")
	size := fs.Int("size", 1024, "response body bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body := bytes.Repeat([]byte("x"), *size)
	return serveUntilSignal(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(body)
	}))
}

func runControl(args []string) error {
	fs := flag.NewFlagSet("control", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:18700", "listen address")
	dir := fs.String("dir", "", "data directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := embedded.Open(embedded.Options{Dir: *dir, Expiry: embedded.ExpiryOptions{Disabled: true}, Logger: logger})
	if err != nil {
		return err
	}
	defer st.Close()
	return serveUntilSignal(*listen, control.NewServer(st, control.ServerOptions{Logger: logger}).Handler())
}
