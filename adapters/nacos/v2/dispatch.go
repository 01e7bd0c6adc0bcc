package v2

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/meshbridge/meshbridge/adapters/nacos/config"
	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/registry"
)

const attrConnection = naming.AttrConnection

// handler serves one request type. respType is the type of its normal
// answer, used also when the auth check refuses the call (Nacos answers
// with the handler's own response type, errorCode 403).
type handler struct {
	respType string
	secured  bool
	serve    func(ctx context.Context, c *conn, p *Payload) (string, responder)
}

// responder is a response struct; the dispatcher stamps the request id.
type responder interface{ setRequestID(string) }

func (r *response) setRequestID(id string) { r.RequestID = id }

func (s *Server) handlerTable() map[string]handler {
	return map[string]handler{
		typeHealthCheck: {respType: "HealthCheckResponse", serve: func(context.Context, *conn, *Payload) (string, responder) {
			r := ok()
			return "HealthCheckResponse", &r
		}},
		typeInstance:          {respType: "InstanceResponse", secured: true, serve: s.handleInstance},
		typeBatchInstance:     {respType: "BatchInstanceResponse", secured: true, serve: s.handleBatchInstance},
		typeServiceQuery:      {respType: "QueryServiceResponse", secured: true, serve: s.handleServiceQuery},
		typeSubscribeService:  {respType: "SubscribeServiceResponse", secured: true, serve: s.handleSubscribe},
		typeServiceList:       {respType: "ServiceListResponse", secured: true, serve: s.handleServiceList},
		typeConfigQuery:       {respType: "ConfigQueryResponse", secured: true, serve: s.handleConfigQuery},
		typeConfigPublish:     {respType: "ConfigPublishResponse", secured: true, serve: s.handleConfigPublish},
		typeConfigRemove:      {respType: "ConfigRemoveResponse", secured: true, serve: s.handleConfigRemove},
		typeConfigBatchListen: {respType: "ConfigChangeBatchListenResponse", secured: true, serve: s.handleConfigBatchListen},
	}
}

// handle answers one unary request, in the order Nacos's
// GrpcRequestAcceptor checks things: server check, handler lookup,
// connection registration, payload parsing, auth, the handler.
func (s *Server) handle(ctx context.Context, p *Payload) *Payload {
	c := connFrom(ctx)
	requestID := peekRequestID(p.Body)
	if p.Type == typeServerCheck {
		id := ""
		if c != nil {
			id = c.id
		}
		return encode("ServerCheckResponse", &serverCheckResponse{response: ok(), ConnectionID: id}, requestID)
	}
	h, found := s.handlers[p.Type]
	if !found {
		return errorPayload(codeNoHandler, "RequestHandler Not Found", requestID)
	}
	if c == nil || c.closed.Load() || !c.registered.Load() {
		return errorPayload(codeUnregistered, "Connection is unregistered.", requestID)
	}
	c.touch()
	if !json.Valid(p.Body) {
		return errorPayload(codeBadGateway, "Invalid request", requestID)
	}
	if h.secured && s.opts.Auth.Enabled() {
		if _, err := s.opts.Auth.Verify(p.Headers["accessToken"]); err != nil {
			r := fail(codeNoRight, err.Error())
			return encode(h.respType, &r, requestID)
		}
	}
	typ, resp := h.serve(ctx, c, p)
	return encode(typ, resp, requestID)
}

// decode reads a request body; a body that does not fit the request type
// is Nacos's BAD_GATEWAY (the server could not parse the payload).
func decode(p *Payload, v any) (string, responder) {
	if err := json.Unmarshal(p.Body, v); err != nil {
		r := fail(codeBadGateway, "Invalid request: "+err.Error())
		return typeErrorResponse, &r
	}
	return "", nil
}

func encode(typ string, r responder, requestID string) *Payload {
	r.setRequestID(requestID)
	body, err := json.Marshal(r)
	if err != nil {
		body, _ = json.Marshal(fail(codeServerError, err.Error())) // a flat struct always marshals
		typ = typeErrorResponse
	}
	return &Payload{Type: typ, Body: body}
}

func errorPayload(code int, msg, requestID string) *Payload {
	r := fail(code, msg)
	return encode(typeErrorResponse, &r, requestID)
}

func errorResponse(code int, msg string) (string, responder) {
	r := fail(code, msg)
	return typeErrorResponse, &r
}

// storeError maps a store error to Nacos's answer: invalid input is
// INVALID_PARAM, the rest SERVER_ERROR.
func storeError(err error) (string, responder) {
	if errors.Is(err, registry.ErrInvalid) {
		return errorResponse(codeInvalidParam, err.Error())
	}
	return errorResponse(codeServerError, err.Error())
}

func configKeyError(err error) (string, responder) {
	if errors.Is(err, config.ErrInvalid) {
		return errorResponse(codeInvalidParam, err.Error())
	}
	return errorResponse(codeServerError, err.Error())
}

func peekRequestID(body []byte) string {
	var r struct {
		RequestID string `json:"requestId"`
	}
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	return r.RequestID
}
