package container_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshbridge/meshbridge/e2e/framework"
	"github.com/meshbridge/meshbridge/scenarios/report"
)

var _ = Describe("a migration step in containers", func() {
	It("shifts payments from a legacy Eureka container to the mesh 10/50/100%, drains it through the syncer's container, and fails no request", func(ctx SpecContext) {
		res := runPassing(ctx, "../testdata/container-migration.yaml")
		expectPaymentsMoved(res, 1300)
	}, SpecTimeout(framework.ScenarioTimeout+time.Minute))
})

// expectPaymentsMoved checks a passed container migration step: payments
// moved from nine legacy instances to one mesh instance 10/50/100%, the
// syncer's breaker released, sent requests with none failed or re-sent.
func expectPaymentsMoved(res *report.Result, sent int) {
	GinkgoHelper()
	shift := framework.Step(res, "shift", "payments")
	Expect(shift.Message).To(ContainSubstring("10% to mesh (1 mesh + 9 legacy UP)"))
	Expect(shift.Message).To(ContainSubstring("100% to mesh (1 mesh + 0 legacy UP): mesh got 100.0%"))
	// Released from inside the syncer's container: the release answers
	// on its loopback only.
	Expect(framework.Step(res, "releaseBreaker", "syncer").Message).To(MatchRegexp(`syncer released [1-9]\d* flows`))
	Expect(res.Requests).NotTo(BeNil())
	Expect([]int{res.Requests.Sent, res.Requests.Failed, res.Requests.Resent}).To(Equal([]int{sent, 0, 0}))
}
