//go:build linux && (amd64 || arm64)

package quietconn

import (
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

// pipe is an os.Pipe with both ends wrapped.
func pipe(t *testing.T) (r, w *File) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r, w = WrapFile(pr), WrapFile(pw)
	if r.rc == nil || w.rc == nil {
		t.Fatal("os.Pipe's ends are non-blocking: their calls should be raw")
	}
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	return r, w
}

// TestFileMovesBytesLikeTheFile: a write far larger than a pipe's buffer
// arrives whole; a read deadline, the writer's close and the reader's
// close end reads and writes as on an *os.File.
func TestFileMovesBytesLikeTheFile(t *testing.T) {
	r, w := pipe(t)
	got := moveBig(t, w, r)

	_ = r.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := r.Read(got)
	var pe *os.PathError
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &pe) || pe.Op != "read" {
		t.Fatalf("read past the deadline: want a read *os.PathError for the deadline, got %#v", err)
	}
	_ = r.SetReadDeadline(time.Now().Add(10 * time.Second))
	_ = w.Close()
	if n, err := r.Read(got); n != 0 || err != io.EOF {
		t.Fatalf("read after the writer closed: %d, %v; want io.EOF", n, err)
	}
	_ = r.Close()
	if _, err := r.Read(got); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("read on a closed file: want os.ErrClosed, got %v", err)
	}
}

// TestFileWriteWithoutReader: a write to a pipe nobody reads any more
// fails with EPIPE, and the process lives on (the runtime ignores the
// SIGPIPE); a read ended by Close (most likely waiting by then) ends with
// os.ErrClosed.
func TestFileWriteWithoutReader(t *testing.T) {
	r, w := pipe(t)
	_ = r.Close()
	if _, err := w.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write without a reader: want EPIPE, got %v", err)
	}

	r2, _ := pipe(t)
	done := make(chan error, 1)
	go func() { _, err := r2.Read(make([]byte, 8)); done <- err }()
	time.Sleep(20 * time.Millisecond) // let the read wait
	_ = r2.Close()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Fatalf("read ended by Close: want os.ErrClosed, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the waiting read")
	}
}

// TestFileInBlockingModeIsNotRaw: a file in blocking mode keeps its own
// reads and writes (a raw read would block its thread in the kernel).
func TestFileInBlockingModeIsNotRaw(t *testing.T) {
	fds := make([]int, 2)
	if err := syscall.Pipe2(fds, syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w := WrapFile(os.NewFile(uintptr(fds[0]), "r")), WrapFile(os.NewFile(uintptr(fds[1]), "w"))
	defer r.Close()
	defer w.Close()
	if r.rc != nil || w.rc != nil {
		t.Fatal("a blocking pipe's calls were made raw")
	}
	if _, err := w.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "ok" {
		t.Fatalf("%q, %v", buf, err)
	}
}
