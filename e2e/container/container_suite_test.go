// Package container_test runs scenarios with the container provider:
// images built locally from build/docker, one Docker network; canary by
// header, restarts, an extra container from an image built here (a
// stand-in for a pulled registry image), and a migration step from a
// legacy Eureka container and from a legacy ZooKeeper one. Without a
// Docker engine the suite is skipped with the reason.
package container_test

import (
	"context"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshbridge/meshbridge/e2e/containers"
	"github.com/meshbridge/meshbridge/e2e/framework"
	"github.com/meshbridge/meshbridge/scenarios/report"
)

var bin string

func TestContainerScenarios(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if why := containers.Available(ctx); why != "" {
		t.Skip("container scenarios skipped: " + why)
	}
	var err error
	bin, err = framework.Build(ctx)
	defer framework.Cleanup()
	if reason, err := framework.SkipReason(err); reason != "" {
		t.Skip("container scenarios skipped: " + reason)
	} else if err != nil {
		t.Fatal(err)
	}
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	RunSpecs(t, "container scenarios")
}

// runPassing runs a shipped scenario (or a file, by its path) with the
// container provider, skips the spec when the run was skipped (fails
// it instead where one of requireEnv is 1), and
// expects it to pass and leave no container or network behind.
func runPassing(ctx SpecContext, name string, requireEnv ...string) *report.Result {
	s, err := framework.Scenario(name)
	Expect(err).NotTo(HaveOccurred())
	res := framework.Run(ctx, s, containers.Name, bin)
	if res.Status == report.Skipped {
		// Where what the scenario needs is required (CI), a skip fails.
		for _, env := range requireEnv {
			Expect(os.Getenv(env)).NotTo(Equal("1"), "%s=1: %s", env, res.Reason)
		}
		Skip(res.Reason)
	}
	Expect(res.Status).To(Equal(report.Passed), framework.Summary(res))
	Expect(res.Provider).To(Equal(containers.Name))
	Eventually(func(ctx SpecContext) ([]string, error) { return containers.Leftovers(ctx, s.Name) }).WithContext(ctx).Should(BeEmpty())
	return res
}
