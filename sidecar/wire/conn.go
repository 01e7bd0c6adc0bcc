package wire

import "errors"

// CloseWrite half-closes w when it can (TCP connections and the
// transport's upgraded connections can), so that the peer reads EOF and
// may still answer; errors.ErrUnsupported otherwise.
func CloseWrite(w any) error {
	if cw, ok := w.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
