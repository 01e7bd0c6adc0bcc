// Package record is record and playback for the mock server: a Recorder
// is the engine's handler for unmatched requests (mock.Options.Unmatched)
// that proxies each to the real service, answers with what came back,
// and writes that exchange as a WireMock stub file under a stub root
// (mappings/*.json, large or binary bodies in __files/), which the
// engine then loads unchanged.
//
// What a recorded stub matches: the method, the url (path and query,
// exactly as sent) and, when the request had a body, that body (JSON by
// equalToJson, other text by equalTo; a body that is not UTF-8 is not
// matched on). Request headers are not matched, so none is written:
// Authorization, Cookie and other credentials never reach a stub file.
//
// A request already recorded (its stub file exists) is proxied and
// answered again but not written again: the first answer stays, so a
// replay is the same however often the recording saw the request.
//
// The response is written with its status, body and headers but for
// hop-by-hop headers, Content-Length (the engine sets it), Date (a
// replay's own) and Set-Cookie (a session is a secret, and a replay's
// session would be stale). The live answer to the client keeps
// Set-Cookie.
package record
