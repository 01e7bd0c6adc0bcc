package process_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshbridge/meshbridge/e2e/framework"
	"github.com/meshbridge/meshbridge/scenarios/report"
)

var _ = Describe("a mock for coloured traffic", func() {
	It("sends the coloured calls to payments to the mock, the others to payments, and the journal shows it", func(ctx SpecContext) {
		res := run(ctx, "mock-payments")
		t := framework.Traffic(res, "main")
		Expect(t.Classes["colored"].Summary.Requests).To(Equal(100))
		Expect(framework.Step(res, "assert", "the journal holds every coloured call").Status).To(Equal(report.Passed))
		Expect(framework.Step(res, "assert", "no uncoloured call reached the mock").Status).To(Equal(report.Passed))
	}, SpecTimeout(specTimeout))
})
