package pluginhost

import (
	"os/exec"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/wire"
)

// ChannelPipes is a plugin's calls' channel before the plugin runs: two
// pipes, one for calls and one for answers. The plugin process inherits
// its ends (AddTo) and the host's Client takes the host's ends
// (Client.UseChannel); no other process inherits them, and every message
// on them is sealed with a key only the plugin process gets. A host makes
// one per start of a plugin.
type ChannelPipes struct {
	pipes *wire.Pipes
}

// NewChannelPipes makes the two pipes, close-on-exec and non-blocking:
// only the process they are passed to gets them. It fails where a process
// cannot inherit pipes (not a Unix system); the calls then go through gRPC.
func NewChannelPipes() (*ChannelPipes, error) {
	p, err := wire.NewPipes()
	if err != nil {
		return nil, err
	}
	return &ChannelPipes{pipes: p}, nil
}

// AddTo passes the plugin's ends to cmd, which must not have started:
// they become its next two descriptors, which an environment variable of
// cmd's names (cmd's environment, or this process's when cmd has none).
// Only the first call does anything.
func (p *ChannelPipes) AddTo(cmd *exec.Cmd) { p.pipes.AddTo(cmd) }

// CloseChildEnds closes this process's copies of the plugin's ends, once
// the plugin process has started (or failed to): then the host reads the
// end of the answers when the plugin exits, and the plugin the end of the
// calls when the host closes its end.
func (p *ChannelPipes) CloseChildEnds() { p.pipes.CloseChildEnds() }

// Close closes the ends not handed on.
func (p *ChannelPipes) Close() {
	if p != nil {
		p.pipes.Close()
	}
}
