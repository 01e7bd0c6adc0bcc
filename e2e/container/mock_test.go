package container_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshbridge/meshbridge/e2e/containers"
	"github.com/meshbridge/meshbridge/e2e/framework"
	"github.com/meshbridge/meshbridge/scenarios/report"
)

var _ = Describe("a mock for coloured traffic in containers", func() {
	It("runs the mock from its image with a copy of the stub folder, and the journal shows the coloured calls only", func(ctx SpecContext) {
		s, err := framework.Scenario("mock-payments")
		Expect(err).NotTo(HaveOccurred())
		res := framework.Run(ctx, s, containers.Name, bin)
		Expect(res.Status).To(Equal(report.Passed), framework.Summary(res))
		Expect(res.Provider).To(Equal(containers.Name))
		t := framework.Traffic(res, "main")
		Expect(t.Classes["colored"].Summary.Requests).To(Equal(100))
		Expect(framework.Step(res, "assert", "coloured calls to payments all reach the mock").Status).To(Equal(report.Passed))
		Expect(framework.Step(res, "assert", "the journal holds every coloured call").Status).To(Equal(report.Passed))
		Expect(framework.Step(res, "assert", "no uncoloured call reached the mock").Status).To(Equal(report.Passed))
		Eventually(func(ctx SpecContext) ([]string, error) { return containers.Leftovers(ctx, s.Name) }).WithContext(ctx).Should(BeEmpty())
	}, SpecTimeout(framework.ScenarioTimeout+time.Minute))
})
