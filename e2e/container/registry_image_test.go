package container_test

import (
	"context"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshbridge/meshbridge/e2e/containers"
	"github.com/meshbridge/meshbridge/e2e/framework"
	"github.com/meshbridge/meshbridge/scenarios/report"
	"github.com/meshbridge/meshbridge/scenarios/runner"
)

// standinImage is what testdata/registry-image.yaml names: built here,
// because this machine cannot pull the real registry images.
const standinImage = "meshbridge-e2e/registry-standin:test"

var _ = Describe("a registry server from an image", func() {
	It("starts it, lets an app register with it by name, breaks it, and removes it", func(ctx SpecContext) {
		s, err := framework.Scenario("../testdata/registry-image.yaml")
		Expect(err).NotTo(HaveOccurred())
		Expect(containers.BuildImage(ctx, "../testdata/images/registry-standin.Dockerfile",
			[]string{filepath.Join(bin, runner.BinRegistry)}, standinImage)).To(Succeed())
		DeferCleanup(func(ctx context.Context) error { return containers.RemoveImage(ctx, standinImage) })

		res := framework.Run(ctx, s, containers.Name, bin)
		Expect(res.Status).To(Equal(report.Passed), framework.Summary(res))
		AddReportEntry(s.Name, framework.Summary(res))
		Expect(res.Containers).To(Equal([]report.Container{{Name: "consul", Image: standinImage, Ports: map[string]int{"http": 8501}}}))
		Expect(framework.Summary(res)).To(ContainSubstring("container consul: " + standinImage))
		Expect(framework.Summary(res)).To(ContainSubstring("traffic after -> container consul: 40 requests, 0.00% failed"))
		// The faults took effect: a paused or cut container answers nothing.
		for _, name := range []string{"paused", "cut"} {
			t := framework.Traffic(res, name)
			Expect(t.Summary.Requests).To(Equal(5), name)
			Expect(t.Summary.Failed).To(Equal(5), name)
		}
		Expect(framework.Traffic(res, "before").Summary.Failed).To(BeZero())
		Eventually(func(ctx SpecContext) ([]string, error) { return containers.Leftovers(ctx, s.Name) }).WithContext(ctx).Should(BeEmpty())
	}, SpecTimeout(framework.ScenarioTimeout+time.Minute))
})
