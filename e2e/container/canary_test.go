package container_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshbridge/meshbridge/e2e/containers"
	"github.com/meshbridge/meshbridge/e2e/framework"
	"github.com/meshbridge/meshbridge/scenarios/report"
)

var _ = Describe("canary by header in containers", func() {
	It("routes as it does with processes, and removes every container and the network", func(ctx SpecContext) {
		s, err := framework.Scenario("canary-by-header")
		Expect(err).NotTo(HaveOccurred())
		res := framework.Run(ctx, s, containers.Name, bin)
		if res.Status == report.Skipped {
			Skip(res.Reason)
		}
		Expect(res.Status).To(Equal(report.Passed), framework.Summary(res))
		Expect(res.Provider).To(Equal(containers.Name))
		t := framework.Traffic(res, "main")
		Expect(t.Classes["colored"].Shares).To(Equal(map[string]float64{"v2": 1}))
		Expect(t.Classes["default"].Shares).To(Equal(map[string]float64{"v1": 1}))
		Eventually(func(ctx SpecContext) ([]string, error) { return containers.Leftovers(ctx, s.Name) }).WithContext(ctx).Should(BeEmpty())
	}, SpecTimeout(framework.ScenarioTimeout+time.Minute))
})

var _ = Describe("restarts in containers", func() {
	It("restarts a pod and the registry, whose host ports change, and serves cleanly after", func(ctx SpecContext) {
		s, err := framework.Scenario("../testdata/container-restart.yaml")
		Expect(err).NotTo(HaveOccurred())
		res := framework.Run(ctx, s, containers.Name, bin)
		Expect(res.Status).To(Equal(report.Passed), framework.Summary(res))
		Expect(framework.Traffic(res, "after").Summary.Failed).To(BeZero())
		Eventually(func(ctx SpecContext) ([]string, error) { return containers.Leftovers(ctx, s.Name) }).WithContext(ctx).Should(BeEmpty())
	}, SpecTimeout(framework.ScenarioTimeout+time.Minute))
})
