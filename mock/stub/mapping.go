package stub

// Mapping is one stub: WireMock's stub mapping, field for field where
// meshbridge supports the field, plus the YAML form's own fields (marked
// "own"). Both forms decode into it strictly (see Decode).
type Mapping struct {
	// ID identifies the stub (WireMock's id; uuid is its alias). Empty:
	// one is made from the file and the stub's place in it, or at random
	// through the admin API.
	ID   string `yaml:"id" json:"id,omitempty"`
	UUID string `yaml:"uuid" json:"uuid,omitempty"`
	// Name is free text shown in the journal and near misses.
	Name     string              `yaml:"name" json:"name,omitempty"`
	Request  RequestPattern      `yaml:"request" json:"request"`
	Response *ResponseDefinition `yaml:"response" json:"response,omitempty"`
	// Responses (own) are served in turn, one a request; after the last,
	// Sequence says what comes next.
	Responses []ResponseDefinition `yaml:"responses" json:"responses,omitempty"`
	// Sequence (own) is "repeat-last" (default) or "cycle".
	Sequence string `yaml:"sequence" json:"sequence,omitempty"`
	// Priority orders stubs, 1 first (default 5, as WireMock).
	Priority *int `yaml:"priority" json:"priority,omitempty"`

	ScenarioName          string `yaml:"scenarioName" json:"scenarioName,omitempty"`
	RequiredScenarioState string `yaml:"requiredScenarioState" json:"requiredScenarioState,omitempty"`
	NewScenarioState      string `yaml:"newScenarioState" json:"newScenarioState,omitempty"`
	// ScenarioKey (own) keeps the scenario's state per value taken from
	// the request, so that parallel test suites do not move each other's
	// state; requests without the value share one state.
	ScenarioKey *ValueSource `yaml:"scenarioKey" json:"scenarioKey,omitempty"`

	// Persistent is accepted for WireMock's saved files; it changes
	// nothing here (admin changes live in memory until mappings/save).
	Persistent *bool `yaml:"persistent" json:"persistent,omitempty"`
	// InsertionIndex is accepted for WireMock's saved files and ignored:
	// a file's stubs are added in their order in the file.
	InsertionIndex *int `yaml:"insertionIndex" json:"insertionIndex,omitempty"`
	// Metadata is kept and shown, as WireMock does.
	Metadata map[string]any `yaml:"metadata" json:"metadata,omitempty"`

	PostServeActions    *Refused `yaml:"postServeActions" json:"-" refused:"post-serve actions (webhooks) are not supported"`
	ServeEventListeners *Refused `yaml:"serveEventListeners" json:"-" refused:"serve event listeners are extensions, not supported"`
}

// RequestPattern is what a request must look like for its stub to answer.
// At most one of URL, URLPath, URLPattern and URLPathPattern is set.
type RequestPattern struct {
	// Method is the HTTP method, or "ANY" (default: any).
	Method string `yaml:"method" json:"method,omitempty"`
	// URL is the path and query, compared exactly.
	URL *string `yaml:"url" json:"url,omitempty"`
	// URLPath is the path, compared exactly.
	URLPath *string `yaml:"urlPath" json:"urlPath,omitempty"`
	// URLPattern is a regular expression the whole path and query match.
	URLPattern *string `yaml:"urlPattern" json:"urlPattern,omitempty"`
	// URLPathPattern is a regular expression the whole path matches.
	URLPathPattern *string `yaml:"urlPathPattern" json:"urlPathPattern,omitempty"`

	QueryParameters map[string]StringPattern `yaml:"queryParameters" json:"queryParameters,omitempty"`
	Headers         map[string]StringPattern `yaml:"headers" json:"headers,omitempty"`
	Cookies         map[string]StringPattern `yaml:"cookies" json:"cookies,omitempty"`
	BodyPatterns    []StringPattern          `yaml:"bodyPatterns" json:"bodyPatterns,omitempty"`

	URLPathTemplate      *Refused `yaml:"urlPathTemplate" json:"-" refused:"urlPathTemplate is not supported; use urlPathPattern"`
	PathParameters       *Refused `yaml:"pathParameters" json:"-" refused:"pathParameters need urlPathTemplate, which is not supported"`
	FormParameters       *Refused `yaml:"formParameters" json:"-" refused:"formParameters are not supported; match the body with contains or matches"`
	BasicAuthCredentials *Refused `yaml:"basicAuthCredentials" json:"-" refused:"basicAuthCredentials are not supported; match the Authorization header"`
	CustomMatcher        *Refused `yaml:"customMatcher" json:"-" refused:"custom matchers are extensions, not supported"`
	MultipartPatterns    *Refused `yaml:"multipartPatterns" json:"-" refused:"multipartPatterns are not supported"`
	Host                 *Refused `yaml:"host" json:"-" refused:"host matching is not supported (a mock serves one service)"`
	Port                 *Refused `yaml:"port" json:"-" refused:"port matching is not supported (a mock serves one service)"`
	Scheme               *Refused `yaml:"scheme" json:"-" refused:"scheme matching is not supported (a mock serves one service)"`
}

// StringPattern is one of WireMock's value matchers: exactly one operator
// (equalTo, contains, doesNotContain, matches, doesNotMatch, absent,
// equalToJson, matchesJsonPath) with its options.
type StringPattern struct {
	EqualTo *string `yaml:"equalTo" json:"equalTo,omitempty"`
	// CaseInsensitive applies to equalTo.
	CaseInsensitive bool    `yaml:"caseInsensitive" json:"caseInsensitive,omitempty"`
	Contains        *string `yaml:"contains" json:"contains,omitempty"`
	DoesNotContain  *string `yaml:"doesNotContain" json:"doesNotContain,omitempty"`
	// Matches is a regular expression the whole value must match (as
	// Java's Pattern.matches, which WireMock uses).
	Matches      *string `yaml:"matches" json:"matches,omitempty"`
	DoesNotMatch *string `yaml:"doesNotMatch" json:"doesNotMatch,omitempty"`
	// Absent true: the value must not be there.
	Absent *bool `yaml:"absent" json:"absent,omitempty"`
	// EqualToJSON is a JSON document, given as a string or inline.
	EqualToJSON         *JSONValue `yaml:"equalToJson" json:"equalToJson,omitempty"`
	IgnoreArrayOrder    bool       `yaml:"ignoreArrayOrder" json:"ignoreArrayOrder,omitempty"`
	IgnoreExtraElements bool       `yaml:"ignoreExtraElements" json:"ignoreExtraElements,omitempty"`
	// MatchesJSONPath is an expression that must select something, or an
	// expression with a matcher its result must pass.
	MatchesJSONPath *JSONPathPattern `yaml:"matchesJsonPath" json:"matchesJsonPath,omitempty"`

	EqualToXML         *Refused `yaml:"equalToXml" json:"-" refused:"XML matchers are not supported"`
	MatchesXPath       *Refused `yaml:"matchesXPath" json:"-" refused:"XML matchers are not supported"`
	XPathNamespaces    *Refused `yaml:"xPathNamespaces" json:"-" refused:"XML matchers are not supported"`
	EnablePlaceholders *Refused `yaml:"enablePlaceholders" json:"-" refused:"placeholders are not supported"`
	BinaryEqualTo      *Refused `yaml:"binaryEqualTo" json:"-" refused:"binaryEqualTo is not supported"`
	MatchesJSONSchema  *Refused `yaml:"matchesJsonSchema" json:"-" refused:"matchesJsonSchema is not supported"`
	Before             *Refused `yaml:"before" json:"-" refused:"date-time matchers are not supported"`
	After              *Refused `yaml:"after" json:"-" refused:"date-time matchers are not supported"`
	EqualToDateTime    *Refused `yaml:"equalToDateTime" json:"-" refused:"date-time matchers are not supported"`
	And                *Refused `yaml:"and" json:"-" refused:"and/or/not matchers are not supported"`
	Or                 *Refused `yaml:"or" json:"-" refused:"and/or/not matchers are not supported"`
	Not                *Refused `yaml:"not" json:"-" refused:"and/or/not matchers are not supported"`
	HasExactly         *Refused `yaml:"hasExactly" json:"-" refused:"multi-value matchers are not supported"`
	Includes           *Refused `yaml:"includes" json:"-" refused:"multi-value matchers are not supported"`
}

// JSONPathPattern is matchesJsonPath: an expression alone (a string) or an
// expression with a matcher for what it selects (an object).
type JSONPathPattern struct {
	Expression    string `yaml:"expression" json:"expression"`
	StringPattern `yaml:",inline" json:",inline"`
	// object is true for the object form, so the mapping is written back
	// as it came.
	object bool
}

// ResponseDefinition is what a stub answers.
type ResponseDefinition struct {
	// Status is the HTTP status (default 200).
	Status int `yaml:"status" json:"status,omitempty"`
	// Headers are the response's headers; a value is a string or a list.
	Headers map[string]HeaderValues `yaml:"headers" json:"headers,omitempty"`
	// At most one body: text, JSON, base64 bytes or a file under __files/.
	Body         *string    `yaml:"body" json:"body,omitempty"`
	JSONBody     *JSONValue `yaml:"jsonBody" json:"jsonBody,omitempty"`
	Base64Body   *string    `yaml:"base64Body" json:"base64Body,omitempty"`
	BodyFileName *string    `yaml:"bodyFileName" json:"bodyFileName,omitempty"`

	// FixedDelayMilliseconds delays the answer (milliseconds, default 0).
	FixedDelayMilliseconds *int `yaml:"fixedDelayMilliseconds" json:"fixedDelayMilliseconds,omitempty"`
	// DelayDistribution adds a random delay: lognormal or uniform.
	DelayDistribution *DelayDistribution `yaml:"delayDistribution" json:"delayDistribution,omitempty"`
	// Delay (own) is a fixed delay as a duration ("150ms"), and Jitter
	// (own) a uniform random addition of up to ±Jitter (never below 0).
	Delay  *Duration `yaml:"delay" json:"delay,omitempty"`
	Jitter *Duration `yaml:"jitter" json:"jitter,omitempty"`
	// Fault replaces the answer by a broken one: WireMock's fault name,
	// or (own) an object with a share of requests and an error status.
	Fault *Fault `yaml:"fault" json:"fault,omitempty"`

	// Transformers: "response-template" turns templating on (WireMock's
	// local mode); "spring-cloud-contract" is accepted beside it.
	Transformers []string `yaml:"transformers" json:"transformers,omitempty"`
	// Template (own) turns templating on, as transformers does.
	Template bool `yaml:"template" json:"template,omitempty"`
	// FromConfiguredStub is accepted (WireMock writes it in journals).
	FromConfiguredStub *bool `yaml:"fromConfiguredStub" json:"-"`

	StatusMessage                 *Refused `yaml:"statusMessage" json:"-" refused:"a custom status message is not supported"`
	ProxyBaseURL                  *Refused `yaml:"proxyBaseUrl" json:"-" refused:"proxying is not supported by the stub engine"`
	ProxyURLPrefixToRemove        *Refused `yaml:"proxyUrlPrefixToRemove" json:"-" refused:"proxying is not supported by the stub engine"`
	AdditionalProxyRequestHeaders *Refused `yaml:"additionalProxyRequestHeaders" json:"-" refused:"proxying is not supported by the stub engine"`
	RemoveProxyRequestHeaders     *Refused `yaml:"removeProxyRequestHeaders" json:"-" refused:"proxying is not supported by the stub engine"`
	ChunkedDribbleDelay           *Refused `yaml:"chunkedDribbleDelay" json:"-" refused:"chunkedDribbleDelay is not supported"`
	TransformerParameters         *Refused `yaml:"transformerParameters" json:"-" refused:"transformer parameters are not supported"`
}

// DelayDistribution is WireMock's random delay: "lognormal" with median
// (milliseconds), sigma and an optional maxValue (milliseconds), or
// "uniform" between lower and upper (milliseconds, inclusive).
type DelayDistribution struct {
	Type     string   `yaml:"type" json:"type"`
	Median   *float64 `yaml:"median" json:"median,omitempty"`
	Sigma    *float64 `yaml:"sigma" json:"sigma,omitempty"`
	MaxValue *float64 `yaml:"maxValue" json:"maxValue,omitempty"`
	Lower    *int     `yaml:"lower" json:"lower,omitempty"`
	Upper    *int     `yaml:"upper" json:"upper,omitempty"`
}

// Fault is a broken answer. In WireMock's form it is the name alone and
// always happens; the object form (own) adds the share of requests it
// happens to and the STATUS type, an error status with the response's
// headers and body.
type Fault struct {
	// Type is CONNECTION_RESET_BY_PEER, EMPTY_RESPONSE,
	// MALFORMED_RESPONSE_CHUNK, RANDOM_DATA_THEN_CLOSE or (own) STATUS.
	Type string `yaml:"type" json:"type"`
	// Percent of requests that get the fault (default 100).
	Percent *float64 `yaml:"percent" json:"percent,omitempty"`
	// Status for STATUS (default 503).
	Status int `yaml:"status" json:"status,omitempty"`
	// object is true for the object form.
	object bool
}

// ValueSource names a value of the request: exactly one of a header, a
// query parameter, a cookie or a JSONPath into the JSON body.
type ValueSource struct {
	Header   string `yaml:"header" json:"header,omitempty"`
	Query    string `yaml:"query" json:"query,omitempty"`
	Cookie   string `yaml:"cookie" json:"cookie,omitempty"`
	JSONPath string `yaml:"jsonPath" json:"jsonPath,omitempty"`
}
