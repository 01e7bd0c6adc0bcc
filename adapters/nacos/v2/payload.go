package v2

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Payload is the message both Nacos gRPC services carry (nacos_grpc_service.proto,
// which has no package):
//
//	message Metadata { string type = 3; string clientIp = 8; map<string,string> headers = 7; }
//	message Payload  { Metadata metadata = 2; google.protobuf.Any body = 3; }
//
// Body is the Any's value: the UTF-8 JSON of the request or response. The
// Any's type_url is empty in Nacos traffic and ignored here.
type Payload struct {
	Type     string
	ClientIP string
	Headers  map[string]string
	Body     []byte
}

// Field numbers of the proto messages.
const (
	fieldPayloadMetadata = 2
	fieldPayloadBody     = 3
	fieldMetaType        = 3
	fieldMetaHeaders     = 7
	fieldMetaClientIP    = 8
	fieldMapKey          = 1
	fieldMapValue        = 2
	fieldAnyTypeURL      = 1
	fieldAnyValue        = 2
)

var errMalformed = errors.New("malformed payload")

// Marshal encodes p in the protobuf wire format.
func (p *Payload) Marshal() []byte {
	var meta []byte
	if p.Type != "" {
		meta = protowire.AppendTag(meta, fieldMetaType, protowire.BytesType)
		meta = protowire.AppendString(meta, p.Type)
	}
	for k, v := range p.Headers {
		var entry []byte
		entry = protowire.AppendTag(entry, fieldMapKey, protowire.BytesType)
		entry = protowire.AppendString(entry, k)
		entry = protowire.AppendTag(entry, fieldMapValue, protowire.BytesType)
		entry = protowire.AppendString(entry, v)
		meta = protowire.AppendTag(meta, fieldMetaHeaders, protowire.BytesType)
		meta = protowire.AppendBytes(meta, entry)
	}
	if p.ClientIP != "" {
		meta = protowire.AppendTag(meta, fieldMetaClientIP, protowire.BytesType)
		meta = protowire.AppendString(meta, p.ClientIP)
	}
	var body []byte
	if len(p.Body) > 0 {
		body = protowire.AppendTag(body, fieldAnyValue, protowire.BytesType)
		body = protowire.AppendBytes(body, p.Body)
	}
	out := make([]byte, 0, len(meta)+len(body)+16)
	out = protowire.AppendTag(out, fieldPayloadMetadata, protowire.BytesType)
	out = protowire.AppendBytes(out, meta)
	out = protowire.AppendTag(out, fieldPayloadBody, protowire.BytesType)
	out = protowire.AppendBytes(out, body)
	return out
}

// Unmarshal decodes the protobuf wire format into p, skipping unknown
// fields as protobuf does; repeated singular fields keep the last value.
func (p *Payload) Unmarshal(b []byte) error {
	*p = Payload{}
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == fieldPayloadMetadata && typ == protowire.BytesType:
			return p.unmarshalMetadata(v)
		case num == fieldPayloadBody && typ == protowire.BytesType:
			return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				if num == fieldAnyValue && typ == protowire.BytesType {
					p.Body = append([]byte(nil), v...)
				}
				return nil
			})
		}
		return nil
	})
}

func (p *Payload) unmarshalMetadata(b []byte) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fieldMetaType:
			p.Type = string(v)
		case fieldMetaClientIP:
			p.ClientIP = string(v)
		case fieldMetaHeaders:
			var k, val string
			err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				if typ == protowire.BytesType && num == fieldMapKey {
					k = string(v)
				} else if typ == protowire.BytesType && num == fieldMapValue {
					val = string(v)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if p.Headers == nil {
				p.Headers = map[string]string{}
			}
			p.Headers[k] = val
		}
		return nil
	})
}

// eachField walks the fields of one message. For length-delimited fields v
// is the content; for the others it is nil.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		if typ == protowire.BytesType {
			v, n = protowire.ConsumeBytes(b)
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v); err != nil {
			return err
		}
	}
	return nil
}

// codec lets grpc-go carry Payload values without generated code.
type codec struct{}

func (codec) Marshal(v any) ([]byte, error) {
	p, ok := v.(*Payload)
	if !ok {
		return nil, fmt.Errorf("nacos codec: cannot marshal %T", v)
	}
	return p.Marshal(), nil
}

func (codec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*Payload)
	if !ok {
		return fmt.Errorf("nacos codec: cannot unmarshal into %T", v)
	}
	return p.Unmarshal(data)
}

// Name is "proto": on the wire these are ordinary protobuf messages.
func (codec) Name() string { return "proto" }
