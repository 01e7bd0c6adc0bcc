package v2

import (
	"encoding/json"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
)

// Nacos error codes (api/exception/NacosException.java, ConfigQueryResponse).
const (
	codeOK             = 200
	codeFail           = 500
	codeConfigNotFound = 300
	codeUnregistered   = 301
	codeNoHandler      = 302
	codeInvalidParam   = 400
	codeNoRight        = 403
	codeServerError    = 500
	codeBadGateway     = 502
)

// Request types (the simple Java class names clients put in metadata.type).
const (
	typeServerCheck        = "ServerCheckRequest"
	typeHealthCheck        = "HealthCheckRequest"
	typeConnectionSetup    = "ConnectionSetupRequest"
	typeInstance           = "InstanceRequest"
	typeBatchInstance      = "BatchInstanceRequest"
	typeServiceQuery       = "ServiceQueryRequest"
	typeSubscribeService   = "SubscribeServiceRequest"
	typeServiceList        = "ServiceListRequest"
	typeConfigQuery        = "ConfigQueryRequest"
	typeConfigPublish      = "ConfigPublishRequest"
	typeConfigRemove       = "ConfigRemoveRequest"
	typeConfigBatchListen  = "ConfigBatchListenRequest"
	typeNotifySubscriber   = "NotifySubscriberRequest"
	typeConfigChangeNotify = "ConfigChangeNotifyRequest"
	typeClientDetection    = "ClientDetectionRequest"
	typeErrorResponse      = "ErrorResponse"
)

// response is the envelope every Nacos response shares. Success must be
// sent: the Go SDK reads it rather than resultCode.
type response struct {
	ResultCode int    `json:"resultCode"`
	ErrorCode  int    `json:"errorCode"`
	Success    bool   `json:"success"`
	Message    string `json:"message,omitempty"`
	RequestID  string `json:"requestId"`
}

func ok() response { return response{ResultCode: codeOK, Success: true} }

func fail(code int, msg string) response {
	return response{ResultCode: codeFail, ErrorCode: code, Message: msg}
}

// isResponse tells a client's reply on the bi-stream from a request.
type replyProbe struct {
	RequestID  string `json:"requestId"`
	ResultCode *int   `json:"resultCode"`
}

type serverCheckResponse struct {
	response
	ConnectionID string `json:"connectionId"`
	// SupportAbilityNegotiation false tells Java clients not to wait for a
	// SetupAckRequest, which this server does not send.
	SupportAbilityNegotiation bool `json:"supportAbilityNegotiation"`
}

type connectionSetupRequest struct {
	ClientVersion string            `json:"clientVersion"`
	Tenant        string            `json:"tenant"`
	Labels        map[string]string `json:"labels"`
}

type namingRequest struct {
	RequestID   string `json:"requestId"`
	Namespace   string `json:"namespace"`
	ServiceName string `json:"serviceName"`
	GroupName   string `json:"groupName"`
}

type instanceRequest struct {
	namingRequest
	Type     string               `json:"type"`
	Instance naming.InstanceInput `json:"instance"`
}

type batchInstanceRequest struct {
	namingRequest
	Type      string                 `json:"type"`
	Instances []naming.InstanceInput `json:"instances"`
}

type instanceResponse struct {
	response
	Type string `json:"type"`
}

type serviceQueryRequest struct {
	namingRequest
	Cluster     string `json:"cluster"`
	HealthyOnly bool   `json:"healthyOnly"`
}

type subscribeServiceRequest struct {
	namingRequest
	Subscribe bool   `json:"subscribe"`
	Clusters  string `json:"clusters"`
}

type serviceInfoResponse struct {
	response
	ServiceInfo naming.ServiceInfo `json:"serviceInfo"`
}

type serviceListRequest struct {
	namingRequest
	PageNo   int `json:"pageNo"`
	PageSize int `json:"pageSize"`
}

type serviceListResponse struct {
	response
	Count        int      `json:"count"`
	ServiceNames []string `json:"serviceNames"`
}

// Server-to-client requests carry headers:{} (rust clients fail on null).
type notifySubscriberRequest struct {
	RequestID   string            `json:"requestId"`
	Headers     map[string]string `json:"headers"`
	Namespace   string            `json:"namespace"`
	ServiceName string            `json:"serviceName"`
	GroupName   string            `json:"groupName"`
	Module      string            `json:"module"`
	ServiceInfo json.RawMessage   `json:"serviceInfo"`
}

type configRequest struct {
	RequestID string `json:"requestId"`
	DataID    string `json:"dataId"`
	Group     string `json:"group"`
	Tenant    string `json:"tenant"`
}

type configPublishRequest struct {
	configRequest
	Content     string            `json:"content"`
	CasMd5      string            `json:"casMd5"`
	AdditionMap map[string]string `json:"additionMap"`
}

// configQueryResponse leaves out "tag": the Go SDK types it bool, Java String.
type configQueryResponse struct {
	response
	Content          string `json:"content"`
	EncryptedDataKey string `json:"encryptedDataKey"`
	ContentType      string `json:"contentType"`
	Md5              string `json:"md5"`
	LastModified     int64  `json:"lastModified"`
	IsBeta           bool   `json:"isBeta"`
}

type configListenContext struct {
	DataID string `json:"dataId"`
	Group  string `json:"group"`
	Md5    string `json:"md5"`
	Tenant string `json:"tenant"`
}

type configBatchListenRequest struct {
	RequestID            string                `json:"requestId"`
	Listen               bool                  `json:"listen"`
	ConfigListenContexts []configListenContext `json:"configListenContexts"`
}

type configContext struct {
	DataID string `json:"dataId"`
	Group  string `json:"group"`
	Tenant string `json:"tenant"`
}

type configChangeBatchListenResponse struct {
	response
	ChangedConfigs []configContext `json:"changedConfigs"`
}

type configChangeNotifyRequest struct {
	RequestID string            `json:"requestId"`
	Headers   map[string]string `json:"headers"`
	DataID    string            `json:"dataId"`
	Group     string            `json:"group"`
	Tenant    string            `json:"tenant"`
	Module    string            `json:"module"`
}

type clientDetectionRequest struct {
	RequestID string            `json:"requestId"`
	Headers   map[string]string `json:"headers"`
	Module    string            `json:"module"`
}
