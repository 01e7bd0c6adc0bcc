package apptest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBuildStartAndWait(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hello") // go build names the binary after the package: hello
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	src := "package main\n\nimport (\"fmt\"; \"os\"; \"time\")\n\nfunc main() {\n\tfmt.Println(\"hello\", os.Args[1])\n\tif os.Args[1] == \"wait\" {\n\t\ttime.Sleep(time.Minute)\n\t}\n\tos.Exit(3)\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.22\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	bin := Build(t, ".")["hello"]
	if again := Build(t, ".")["hello"]; again != bin {
		t.Fatalf("built twice: %s, %s", bin, again)
	}
	p := Start(t, bin, "world")
	if code := p.Wait(t, 10*time.Second); code != 3 || !strings.Contains(p.Output(), "hello world") {
		t.Fatalf("exit %d, output %q", code, p.Output())
	}
	p = Start(t, bin, "wait")
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.Wait(t, 10*time.Second); code != -1 {
		t.Fatalf("exit %d after SIGTERM, want -1 (a signal)", code)
	}
}
