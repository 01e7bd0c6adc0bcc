package container_test

import (
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshbridge/meshbridge/e2e/containers"
	"github.com/meshbridge/meshbridge/e2e/framework"
	"github.com/meshbridge/meshbridge/scenarios/report"
)

// requireZooKeeperImageEnv set to 1 turns a missing meshbridge/zookeeper:3.8
// into a failure (.ci/run sets it after make zookeeper-image).
const requireZooKeeperImageEnv = "MESHBRIDGE_REQUIRE_ZOOKEEPER_IMAGE"

var _ = Describe("a migration step from a ZooKeeper container", func() {
	It("shifts payments from a legacy ZooKeeper container to the mesh 10/50/100%, drains it through the syncer's container, and fails no request", func(ctx SpecContext) {
		s, err := framework.Scenario("../testdata/container-migration-zookeeper.yaml")
		Expect(err).NotTo(HaveOccurred())
		res := framework.Run(ctx, s, containers.Name, bin)
		if res.Status == report.Skipped {
			// The runner skips when the image is not made yet, and says how.
			Expect(os.Getenv(requireZooKeeperImageEnv)).NotTo(Equal("1"), "%s=1: %s", requireZooKeeperImageEnv, res.Reason)
			Skip(res.Reason)
		}
		Expect(res.Status).To(Equal(report.Passed), framework.Summary(res))
		Expect(res.Provider).To(Equal(containers.Name))
		AddReportEntry(s.Name, framework.Summary(res))
		expectPaymentsMoved(res, 1200)
		Eventually(func(ctx SpecContext) ([]string, error) { return containers.Leftovers(ctx, s.Name) }).WithContext(ctx).Should(BeEmpty())
	}, SpecTimeout(framework.ScenarioTimeout+time.Minute))
})
