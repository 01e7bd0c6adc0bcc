package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/logging"
	"github.com/meshbridge/meshbridge/sidecar"
	"github.com/meshbridge/meshbridge/sidecar/config"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

const usage = `sidecar: meshbridge's data plane, beside one app instance.

Egress (app -> mesh, default 127.0.0.1:15001): HTTP_PROXY=http://127.0.0.1:15001,
then call http://<service>/path. Ingress (mesh -> app, default :15006).
Admin on 127.0.0.1:15000 (/healthz /readyz /metrics /config).

Usage: sidecar [flags]

Flags override the configuration file; see configs/sidecar.yaml.
`

type flags struct {
	configPath, serviceName, servicePorts, control string
	egress, ingress, admin                         string
	showVersion                                    bool
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("sidecar", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.configPath, "config", "", "YAML configuration `file`")
	fs.StringVar(&f.serviceName, "service", "", "the app's service `name` (service.name)")
	fs.StringVar(&f.servicePorts, "service-ports", "", "the app's `ports`, name:port[:protocol],... e.g. rest:8080,grpc:9090 (service.ports)")
	fs.StringVar(&f.control, "control", "", "control API `URL` (control.address)")
	fs.StringVar(&f.egress, "egress", "", "egress listen `addr`ess (egress.listen)")
	fs.StringVar(&f.ingress, "ingress", "", "ingress listen `addr`ess (ingress.listen)")
	fs.StringVar(&f.admin, "admin", "", "admin listen `addr`ess (admin.listen)")
	fs.BoolVar(&f.showVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return f, nil
}

// loadConfig applies defaults, the file, then flags, and validates.
func loadConfig(f *flags) (*config.Config, error) {
	cfg := config.Default()
	if f.configPath != "" {
		var err error
		if cfg, err = config.LoadFile(f.configPath); err != nil {
			return nil, err
		}
	}
	if f.serviceName != "" {
		cfg.Service.Name = f.serviceName
	}
	if f.servicePorts != "" {
		ports, err := config.ParsePorts(f.servicePorts)
		if err != nil {
			return nil, err
		}
		cfg.Service.Ports = ports
	}
	for _, o := range []struct {
		v   string
		dst *string
	}{{f.control, &cfg.Control.Address}, {f.egress, &cfg.Egress.Listen}, {f.ingress, &cfg.Ingress.Listen}, {f.admin, &cfg.Admin.Listen}} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
	if tok := os.Getenv("MESHBRIDGE_CONTROL_TOKEN"); tok != "" && cfg.Control.Token == "" {
		cfg.Control.Token = tok
	}
	if cfg.Control.Token == "" && cfg.Control.TokenFile != "" {
		b, err := os.ReadFile(cfg.Control.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("config: control.tokenFile: %w", err)
		}
		cfg.Control.Token = strings.TrimSpace(string(b))
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := checkPluginNames(cfg); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "sidecar:", err)
		return exitUsage
	}
	if f.showVersion {
		fmt.Fprintln(stdout, "sidecar", version)
		return exitOK
	}
	cfg, err := loadConfig(f)
	if err != nil {
		fmt.Fprintln(stderr, "sidecar:", err)
		return exitUsage
	}
	log, err := logging.New(cfg.Log, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "sidecar: config:", err)
		return exitUsage
	}
	sidecar.ApplyRuntime(cfg.Runtime, os.Getenv, log)
	var ctl sidecar.Control
	if cfg.Control.Address != "" {
		c, err := control.NewClient(cfg.Control.Address, control.WithToken(cfg.Control.Token), control.WithLogger(log))
		if err != nil {
			fmt.Fprintln(stderr, "sidecar: control.address:", err)
			return exitUsage
		}
		ctl = c
	}
	ms := metrics.New() // shared by the sidecar and the plugin host: one /metrics
	stopPlugins, err := startPlugins(ctx, cfg, log, ms.Registry)
	if err != nil {
		log.Error("plugins failed to start", "error", err)
		return exitFailed
	}
	defer stopPlugins()
	sc, err := sidecar.New(cfg, sidecar.Options{Control: ctl, Logger: log, Metrics: ms})
	if err != nil {
		log.Error("sidecar failed to start", "error", err)
		return exitFailed
	}
	if err := sc.Run(ctx); err != nil {
		log.Error("sidecar failed", "error", err)
		return exitFailed
	}
	log.Info("sidecar stopped")
	return exitOK
}
