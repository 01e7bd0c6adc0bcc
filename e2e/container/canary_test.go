package container_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshbridge/meshbridge/e2e/framework"
)

var _ = Describe("canary by header in containers", func() {
	It("routes as it does with processes, and removes every container and the network", func(ctx SpecContext) {
		res := runPassing(ctx, "canary-by-header")
		t := framework.Traffic(res, "main")
		Expect(t.Classes["colored"].Shares).To(Equal(map[string]float64{"v2": 1}))
		Expect(t.Classes["default"].Shares).To(Equal(map[string]float64{"v1": 1}))
	}, SpecTimeout(framework.ScenarioTimeout+time.Minute))
})

var _ = Describe("restarts in containers", func() {
	It("restarts a pod and the registry, whose host ports change, and serves cleanly after", func(ctx SpecContext) {
		res := runPassing(ctx, "../testdata/container-restart.yaml")
		Expect(framework.Traffic(res, "after").Summary.Failed).To(BeZero())
	}, SpecTimeout(framework.ScenarioTimeout+time.Minute))
})
