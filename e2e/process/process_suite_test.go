// Package process_test runs the shipped scenarios with the process
// provider: every component a local process on loopback ports.
package process_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshbridge/meshbridge/e2e/framework"
	_ "github.com/meshbridge/meshbridge/scenarios/process"
)

// bin holds the binaries built for this suite.
var bin string

func TestProcessScenarios(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var err error
	bin, err = framework.Build(ctx)
	defer framework.Cleanup()
	if reason, err := framework.SkipReason(err); reason != "" {
		t.Skip("process scenarios skipped: " + reason)
	} else if err != nil {
		t.Fatal(err)
	}
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "process scenarios")
}

var _ = AfterEach(func() {
	// Whatever a spec did, nothing it started may outlive it.
	Eventually(func() []string { return framework.Stray(bin) }).Should(BeEmpty(), "processes left running")
})
