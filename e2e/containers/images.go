package containers

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	tc "github.com/testcontainers/testcontainers-go"

	"github.com/meshbridge/meshbridge/scenarios/runner"
)

// defaultPullTimeout bounds pulling one image that topology.containers
// names and this machine lacks (the scenario's own timeout bounds it too).
// testcontainers retries a failed pull with backoff until then.
const defaultPullTimeout = 5 * time.Minute

// buildImage builds meshbridge/<binary>:scenario from build/docker/<binary>.Dockerfile
// with a context holding only the binary.
func (p *Provider) buildImage(ctx context.Context, binary string) (string, error) {
	bin := filepath.Join(p.env.BinDir, binary)
	if err := checkStatic(bin); err != nil {
		return "", fmt.Errorf("container provider: %w", err)
	}
	ref := ImageRepo + "/" + binary + ":scenario"
	dockerfile := filepath.Join(p.env.Root, "build", "docker", binary+".Dockerfile")
	if err := build(ctx, p.env.WorkDir, dockerfile, []string{bin}, ref); err != nil {
		return "", fmt.Errorf("container provider: build image of %s: %w", binary, err)
	}
	return ref, nil
}

// BuildImage builds the image ref (repository:tag) from a Dockerfile with a
// build context holding only files, copied by their base names. Suites use
// it for test images that stand in for images a CI would pull.
func BuildImage(ctx context.Context, dockerfile string, files []string, ref string) error {
	for _, f := range files {
		if isELF(f) {
			if err := checkStatic(f); err != nil {
				return fmt.Errorf("containers: %w", err)
			}
		}
	}
	if err := build(ctx, "", dockerfile, files, ref); err != nil {
		return fmt.Errorf("containers: build %s: %w", ref, err)
	}
	return nil
}

// RemoveImage removes an image a suite built (its containers must be gone).
func RemoveImage(ctx context.Context, ref string) error {
	cli, err := tc.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("containers: %w", err)
	}
	defer cli.Close()
	if _, err := cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("containers: remove image %s: %w", ref, err)
	}
	return nil
}

// build builds ref from dockerfile in a fresh context directory (under
// tmpRoot, or the system's temp directory) holding the Dockerfile and files.
func build(ctx context.Context, tmpRoot, dockerfile string, files []string, ref string) error {
	repo, tag, ok := strings.Cut(ref[strings.LastIndex(ref, "/")+1:], ":")
	if !ok || tag == "" {
		return fmt.Errorf("image %q needs a tag", ref)
	}
	repo = ref[:strings.LastIndex(ref, "/")+1] + repo
	df, err := os.ReadFile(dockerfile)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(tmpRoot, "image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), df, 0o644); err != nil {
		return err
	}
	for _, f := range files {
		if err := copyFile(f, filepath.Join(dir, filepath.Base(f))); err != nil {
			return err
		}
	}
	prov, err := tc.NewDockerProvider()
	if err != nil {
		return err
	}
	defer prov.Close()
	var buildLog strings.Builder
	if _, err := prov.BuildImage(ctx, &tc.ContainerRequest{FromDockerfile: tc.FromDockerfile{
		Context: dir, Dockerfile: "Dockerfile", Repo: repo, Tag: tag, KeepImage: true, BuildLogWriter: &buildLog,
	}}); err != nil {
		return fmt.Errorf("%w\n%s", err, buildLog.String())
	}
	return nil
}

// pullMissing pulls, through testcontainers (its retries, the Docker
// credentials of this machine), every image of comps that is not present
// locally. Images built or loaded beforehand are used as they are; one
// that is made on this machine (builtBy) is never pulled: missing, it is a
// *runner.MissingError naming the command that makes it.
func (p *Provider) pullMissing(ctx context.Context, comps []*imageComponent) error {
	done := map[string]bool{}
	for _, c := range comps {
		if done[c.image] {
			continue
		}
		done[c.image] = true
		_, err := p.cli.ImageInspect(ctx, c.image)
		if err == nil {
			continue
		}
		if !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("container provider: inspect image %s: %w", c.image, err)
		}
		if c.builtBy != "" {
			return &runner.MissingError{Binary: "image " + c.image + " (" + c.name + ")",
				Reason: "it is built on this machine, not pulled, and is not built yet; build it with " + c.builtBy}
		}
		if err := p.pull(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// imageComponent is a component run from an image rather than a binary.
type imageComponent struct {
	name, image, builtBy string
}

func (p *Provider) pull(ctx context.Context, c *imageComponent) error {
	ctx, cancel := context.WithTimeout(ctx, p.pullTimeout)
	defer cancel()
	attempts := &lastMessage{}
	prov, err := tc.NewDockerProvider(tc.WithLogger(attempts))
	if err != nil {
		return fmt.Errorf("container provider: %w", err)
	}
	defer prov.Close()
	start := time.Now()
	if p.env.Log != nil {
		p.env.Log.Info("pulling image", "image", c.image, "container", c.name)
	}
	if err := prov.PullImage(ctx, c.image); err != nil {
		msg := fmt.Sprintf("container provider: topology.containers %s: image %s is not on this machine and pulling it failed after %s: %v",
			c.name, c.image, time.Since(start).Round(time.Second), err)
		if last := attempts.get(); last != "" && errors.Is(err, context.DeadlineExceeded) {
			msg += " (last attempt: " + last + ")"
		}
		return errors.New(msg + "; pull or build it beforehand, or run where its registry is reachable")
	}
	if p.env.Log != nil {
		p.env.Log.Info("pulled image", "image", c.image, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// lastMessage keeps the last line testcontainers logged (a failed pull
// attempt says why there), for the error when the pull times out.
type lastMessage struct {
	mu  sync.Mutex
	msg string
}

func (l *lastMessage) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msg = strings.TrimSpace(fmt.Sprintf(format, args...))
}

func (l *lastMessage) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.msg
}

// checkStatic refuses a dynamically linked binary: a FROM scratch image has
// no loader, and the container would die with a puzzling "no such file".
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; a FROM scratch image needs a static binary (CGO_ENABLED=0, as make build does)", path)
		}
	}
	return nil
}

func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	return err == nil && string(magic) == elf.ELFMAG
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
