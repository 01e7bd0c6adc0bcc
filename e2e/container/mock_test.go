package container_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshbridge/meshbridge/e2e/framework"
	"github.com/meshbridge/meshbridge/scenarios/report"
)

var _ = Describe("a mock for coloured traffic in containers", func() {
	It("runs the mock from its image with a copy of the stub folder, and the journal shows the coloured calls only", func(ctx SpecContext) {
		res := runPassing(ctx, "mock-payments")
		Expect(framework.Traffic(res, "main").Classes["colored"].Summary.Requests).To(Equal(100))
		for _, step := range []string{"coloured calls to payments all reach the mock", "the journal holds every coloured call", "no uncoloured call reached the mock"} {
			Expect(framework.Step(res, "assert", step).Status).To(Equal(report.Passed), step)
		}
	}, SpecTimeout(framework.ScenarioTimeout+time.Minute))
})
