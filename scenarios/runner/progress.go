package runner

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progressLine shows what a scenario is doing: on a terminal one line
// redrawn in place, elsewhere a line every few seconds.
type progressLine struct {
	w     io.Writer
	tty   bool
	name  string
	mu    sync.Mutex
	text  string
	live  func() string
	wmu   sync.Mutex // serialises writes of the line and clear
	stopc chan struct{}
	done  chan struct{}
	width int
}

func newProgressLine(w io.Writer, tty bool, name string) *progressLine {
	p := &progressLine{w: w, tty: tty, name: name, stopc: make(chan struct{}), done: make(chan struct{})}
	if w == nil {
		close(p.done)
		return p
	}
	go p.loop()
	return p
}

func (p *progressLine) loop() {
	defer close(p.done)
	every := 5 * time.Second
	if p.tty {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-p.stopc:
			p.clear()
			return
		case <-t.C:
		}
		line := p.render()
		p.wmu.Lock()
		if p.tty {
			pad := max(0, p.width-len(line))
			fmt.Fprintf(p.w, "\r%s%*s", line, pad, "")
			p.width = len(line)
		} else if line != last {
			fmt.Fprintln(p.w, line)
		}
		p.wmu.Unlock()
		last = line
	}
}

func (p *progressLine) render() string {
	p.mu.Lock()
	text, live := p.text, p.live
	p.mu.Unlock()
	if live != nil {
		text += " | " + live()
	}
	return fmt.Sprintf("[%s] %s", p.name, text)
}

// set shows a new activity; live, when given, adds a changing part.
func (p *progressLine) set(text string, live ...func() string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.text, p.live = text, nil
	if len(live) > 0 {
		p.live = live[0]
	}
	p.mu.Unlock()
}

// note prints a line that stays above the redrawn one: a result worth
// keeping on screen, such as each shift step's measured split.
func (p *progressLine) note(text string) {
	if p == nil || p.w == nil {
		return
	}
	p.clear()
	p.wmu.Lock()
	defer p.wmu.Unlock()
	fmt.Fprintf(p.w, "[%s] %s\n", p.name, text)
}

// setLive replaces only the changing part.
func (p *progressLine) setLive(live func() string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.live = live
	p.mu.Unlock()
}

func (p *progressLine) stop() {
	if p == nil || p.w == nil {
		return
	}
	select {
	case <-p.stopc:
	default:
		close(p.stopc)
	}
	<-p.done
}

// clear blanks a redrawn line so other output starts on a clean line.
func (p *progressLine) clear() {
	if p == nil || p.w == nil || !p.tty {
		return
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%*s\r", p.width, "")
		p.width = 0
	}
}
