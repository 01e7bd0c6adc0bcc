package container_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/meshbridge/meshbridge/e2e/framework"
)

// requireZooKeeperImageEnv set to 1 turns a missing meshbridge/zookeeper:3.8
// into a failure (.ci/run sets it after make zookeeper-image).
const requireZooKeeperImageEnv = "MESHBRIDGE_REQUIRE_ZOOKEEPER_IMAGE"

var _ = Describe("a migration step from a ZooKeeper container", func() {
	It("shifts payments from a legacy ZooKeeper container to the mesh 10/50/100%, drains it through the syncer's container, and fails no request", func(ctx SpecContext) {
		// The runner skips when the image is not made yet, and says how.
		res := runPassing(ctx, "../testdata/container-migration-zookeeper.yaml", requireZooKeeperImageEnv)
		AddReportEntry(res.Name, framework.Summary(res))
		expectPaymentsMoved(res, 1200)
	}, SpecTimeout(framework.ScenarioTimeout+time.Minute))
})
