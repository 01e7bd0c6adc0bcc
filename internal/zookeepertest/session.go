package zookeepertest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Session is a ZooKeeper session as the server handed it out: its id and
// the password that lets another connection take it over.
type Session struct {
	ID       int64
	Password []byte
}

// Sessions records the sessions granted to the connections it dials. Its
// Dial is a go-zookeeper Dialer (zk.WithDialer): the client's sessions
// are private to it, and ending one from outside (Expire) takes its id and
// password, which this reads off the server's connect response.
type Sessions struct {
	mu   sync.Mutex
	last Session
	held chan struct{} // while not nil, dials wait for it to close
}

// holdLimit bounds how long a dial waits while ExpireLast holds it.
const holdLimit = 30 * time.Second

// Dial dials address and watches the connect response on the connection.
func (r *Sessions) Dial(network, address string, timeout time.Duration) (net.Conn, error) {
	r.mu.Lock()
	held := r.held
	r.mu.Unlock()
	if held != nil {
		select {
		case <-held:
		case <-time.After(holdLimit):
		}
	}
	conn, err := net.DialTimeout(network, address, timeout)
	if err != nil {
		return nil, err
	}
	return &watchedConn{Conn: conn, sessions: r}, nil
}

// Last returns the session granted last (zero before any).
func (r *Sessions) Last() Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// hold makes dials wait until the returned release is called.
func (r *Sessions) hold() (release func()) {
	ch := make(chan struct{})
	r.mu.Lock()
	r.held = ch
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		r.held = nil
		r.mu.Unlock()
		close(ch)
	}
}

func (r *Sessions) record(s Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = s
}

// watchedConn passes every read through and decodes the first frame the
// server sends, which is its answer to the client's connect request.
type watchedConn struct {
	net.Conn
	sessions *Sessions

	mu   sync.Mutex
	done bool
	buf  []byte
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done || n == 0 {
		return n, err
	}
	c.buf = append(c.buf, p[:n]...)
	if len(c.buf) < 4 {
		return n, err
	}
	size := int(binary.BigEndian.Uint32(c.buf))
	if len(c.buf) < 4+size {
		return n, err
	}
	if s, perr := decodeConnectResponse(c.buf[4 : 4+size]); perr == nil && s.ID != 0 {
		c.sessions.record(s)
	}
	c.done, c.buf = true, nil
	return n, err
}

// The wire protocol, as far as ending a session needs it: a connect
// request naming the session and its password, then a closeSession
// request (opcode -11), each framed by a big-endian length.
const (
	opCloseSession int32 = -11
	closeXid             = 1
)

// handshake sends a connect request for sess (a zero Session asks for a
// new one) and returns what the server granted; an ID of 0 means the
// session is gone (expired or closed).
func handshake(conn net.Conn, sess Session, timeout time.Duration) (Session, error) {
	if err := writeFrame(conn, connectRequest(sess, timeout)); err != nil {
		return Session{}, fmt.Errorf("send connect request: %w", err)
	}
	resp, err := readFrame(conn)
	if err != nil {
		return Session{}, fmt.Errorf("read connect response: %w", err)
	}
	return decodeConnectResponse(resp)
}

// connectRequest is the body of a connect request for sess.
func connectRequest(sess Session, timeout time.Duration) []byte {
	body := binary.BigEndian.AppendUint32(nil, 0) // protocol version
	body = binary.BigEndian.AppendUint64(body, 0) // last zxid seen
	body = binary.BigEndian.AppendUint32(body, uint32(timeout/time.Millisecond))
	body = binary.BigEndian.AppendUint64(body, uint64(sess.ID))
	passwd := sess.Password
	if passwd == nil {
		passwd = make([]byte, 16) // the empty password every new session is asked with
	}
	body = binary.BigEndian.AppendUint32(body, uint32(len(passwd)))
	return append(body, passwd...)
}

// decodeConnectResponse reads protocol version, timeout, session id and
// password (a trailing read-only flag, when sent, is ignored).
func decodeConnectResponse(b []byte) (Session, error) {
	if len(b) < 20 {
		return Session{}, errors.New("connect response too short")
	}
	id := int64(binary.BigEndian.Uint64(b[8:16]))
	n := int(int32(binary.BigEndian.Uint32(b[16:20])))
	if n < 0 || len(b) < 20+n {
		return Session{}, errors.New("connect response: bad password length")
	}
	return Session{ID: id, Password: append([]byte(nil), b[20:20+n]...)}, nil
}

func closeSessionRequest() []byte {
	op := opCloseSession // a variable: the conversion of a negative constant does not compile
	req := binary.BigEndian.AppendUint32(nil, closeXid)
	return binary.BigEndian.AppendUint32(req, uint32(op))
}

func readCloseReply(conn net.Conn) error {
	resp, err := readFrame(conn)
	if err != nil {
		return fmt.Errorf("read closeSession reply: %w", err)
	}
	if len(resp) < 16 {
		return errors.New("closeSession reply too short")
	}
	if code := int32(binary.BigEndian.Uint32(resp[12:16])); code != 0 {
		return fmt.Errorf("closeSession refused with code %d", code)
	}
	return nil
}

func writeFrame(w io.Writer, body []byte) error {
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(body)), uint32(len(body)))
	_, err := w.Write(append(frame, body...))
	return err
}

// maxFrame bounds what this reads: connect and close replies are tiny.
const maxFrame = 1 << 16

func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	body := make([]byte, n)
	_, err := io.ReadFull(r, body)
	return body, err
}

// Expire ends sess as the server ends an expired session: its ephemeral
// nodes are deleted, its watches fire, and its client is told "session
// expired" when it next talks to the server. It is the known trick of
// taking the session over from a second connection with its id and
// password and closing it there. A session already gone is not an error.
func (s *Server) Expire(t testing.TB, sess Session) {
	t.Helper()
	if err := expire(s.Addr, sess); err != nil {
		t.Fatalf("zookeepertest: expire session 0x%x: %v", sess.ID, err)
	}
}

// ExpireLast expires the last session r recorded (see Expire) while the
// client's reconnections wait, and returns it. The server drops the
// client's connection when the session is taken over; a client that came
// straight back could take its session back before the close, so it is
// made to wait, as a client cut off by a partition while its session
// expired learns of the expiry only when it reconnects.
func (s *Server) ExpireLast(t testing.TB, r *Sessions) Session {
	t.Helper()
	release := r.hold()
	defer release()
	sess := r.Last()
	s.Expire(t, sess)
	return sess
}

// expireAttempts bounds the takeovers: a client that reconnects at once
// takes its session back before the close arrives, and the server then
// drops the taking connection instead.
const expireAttempts = 10

func expire(addr string, sess Session) error {
	if sess.ID == 0 {
		return errors.New("no session to expire")
	}
	var err error
	for range expireAttempts {
		var gone bool
		if gone, err = takeOverAndClose(addr, sess); gone || err == nil {
			return nil
		}
		if errors.Is(err, errRefused) {
			return err
		}
	}
	return err
}

var errRefused = errors.New("refused")

// takeOverAndClose sends the connect request for sess and the
// closeSession request at once, so that the close follows the takeover
// before the owner can reconnect; gone reports a session that was not
// there to take.
func takeOverAndClose(addr string, sess Session) (gone bool, err error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return false, fmt.Errorf("%w: %v", errRefused, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // a failed deadline leaves the reads unbounded only on a broken socket
	if err := writeFrame(conn, connectRequest(sess, 30*time.Second)); err != nil {
		return false, err
	}
	if err := writeFrame(conn, closeSessionRequest()); err != nil {
		return false, err
	}
	resp, err := readFrame(conn)
	if err != nil {
		return false, fmt.Errorf("read connect response: %w", err)
	}
	got, err := decodeConnectResponse(resp)
	if err != nil {
		return false, err
	}
	if got.ID == 0 {
		return true, nil
	}
	if got.ID != sess.ID {
		return false, fmt.Errorf("%w: the server granted session 0x%x instead", errRefused, got.ID)
	}
	return false, readCloseReply(conn)
}
