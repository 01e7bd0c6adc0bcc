// Package retry is the outbound handler that tries again on connect
// failures, resets and chosen status codes, for idempotent methods by
// default, within a retry budget: per target service, retries may add at
// most budgetPercent of the requests seen in the last ten seconds (plus a
// small fixed allowance), so an overloaded upstream never meets a retry storm.
package retry
