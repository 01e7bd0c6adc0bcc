package process_test

import (
	"os"
	"os/exec"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/meshbridge/meshbridge/e2e/framework"
	"github.com/meshbridge/meshbridge/internal/zkserver"
	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/scenarios/report"
)

const specTimeout = framework.ScenarioTimeout + 30*time.Second

// run runs a shipped scenario and expects it to pass, dumping the report
// (steps, figures, log paths) when it does not.
func run(ctx SpecContext, name string) *report.Result {
	s, err := framework.Scenario(name)
	Expect(err).NotTo(HaveOccurred())
	res := framework.Run(ctx, s, "process", bin)
	if res.Status == report.Skipped {
		Skip(res.Reason)
	}
	Expect(res.Status).To(Equal(report.Passed), framework.Summary(res))
	AddReportEntry(name, framework.Summary(res))
	checkHTMLReport(ctx, res)
	return res
}

// checkHTMLReport opens the run's HTML report in a headless chromium: it
// loads cleanly and its timeline shows every step and series of this real
// run (e2e/htmlreport has the checks; without chromium this part is
// skipped, unless MESHBRIDGE_REQUIRE_CHROMIUM=1).
func checkHTMLReport(ctx SpecContext, res *report.Result) {
	chromium, missing := framework.Chromium()
	if missing != "" {
		Expect(framework.ChromiumRequired()).To(BeFalse(), missing)
		AddReportEntry("HTML report not opened", missing)
		return
	}
	page, err := framework.CheckReport(ctx, chromium, GinkgoT().TempDir(), res)
	Expect(err).NotTo(HaveOccurred())
	Expect(page.Check(res)).To(Succeed())
}

var _ = Describe("canary by header", func() {
	It("sends every coloured request to the canary and no other", func(ctx SpecContext) {
		res := run(ctx, "canary-by-header")
		t := framework.Traffic(res, "main")
		Expect(t.Classes["colored"].Summary.Requests).To(Equal(200))
		Expect(t.Classes["colored"].Shares).To(Equal(map[string]float64{"v2": 1}))
		Expect(t.Classes["default"].Shares).To(Equal(map[string]float64{"v1": 1}))
		// Through front, which copies X-Canary onto its call to orders.
		Expect(framework.Step(res, "assert", "the colour propagates").Status).To(Equal(report.Passed))
	}, SpecTimeout(specTimeout))
})

var _ = Describe("weighted split", func() {
	It("holds 90/10 within three points over 2,000 requests", func(ctx SpecContext) {
		res := run(ctx, "weighted-split")
		t := framework.Traffic(res, "split")
		Expect(t.Summary.Requests).To(Equal(2000))
		Expect(t.Classes["default"].Shares["v1"]).To(BeNumerically("~", 0.90, 0.03))
		Expect(t.Classes["default"].Shares["v2"]).To(BeNumerically("~", 0.10, 0.03))
	}, SpecTimeout(specTimeout))
})

var _ = Describe("two canaries with overlapping matchers", func() {
	It("resolves a request matching both by priority", func(ctx SpecContext) {
		res := run(ctx, "canary-priority")
		users := framework.Traffic(res, "users")
		Expect(users.Classes["beta"].Shares).To(Equal(map[string]float64{"v2": 1}))
		Expect(users.Classes["known"].Shares).To(Equal(map[string]float64{"v3": 1}))
		// After the priorities are swapped the same users land on the other canary.
		swapped := framework.Traffic(res, "swapped")
		Expect(swapped.Classes["beta"].Shares).To(Equal(map[string]float64{"v3": 1}))
	}, SpecTimeout(specTimeout))
})

var _ = Describe("shadow traffic", func() {
	It("mirrors a bounded share, leaves the primary alone and keeps the shadow isolated", func(ctx SpecContext) {
		res := run(ctx, "shadow-mirror")
		base, mirrored := framework.Traffic(res, "baseline"), framework.Traffic(res, "mirrored")
		Expect(mirrored.Summary.ErrorRate).To(BeNumerically("<=", base.Summary.ErrorRate))
		Expect(mirrored.Classes["default"].Shares).To(Equal(map[string]float64{"v1": 1}))
		Expect(framework.Step(res, "assert", "the shadow never receives").Status).To(Equal(report.Passed))
	}, SpecTimeout(specTimeout))
})

var _ = Describe("registry restart", func() {
	It("loses no instance and keeps errors under the bound when the adapter is killed mid-traffic", func(ctx SpecContext) {
		res := run(ctx, "registry-restart")
		during := framework.Traffic(res, "during")
		Expect(during.Summary.Requests).To(Equal(1500))
		Expect(during.Summary.ErrorRate).To(BeNumerically("<=", 0.01))
		Expect(framework.Step(res, "kill", "registry").Status).To(Equal(report.Passed))
	}, SpecTimeout(specTimeout))
})

var _ = Describe("link faults", func() {
	It("shows injected latency and absorbs a cut link with retries", func(ctx SpecContext) {
		res := run(ctx, "link-faults")
		Expect(framework.Traffic(res, "slow").Summary.P99).To(BeNumerically(">=", 100*time.Millisecond))
		Expect(framework.Traffic(res, "cut").Summary.ErrorRate).To(BeNumerically("<=", 0.005))
		// The report counts the sidecars' retries that absorbed the cut.
		Expect(res.Requests).NotTo(BeNil())
		Expect(res.Requests.Retried).To(BeNumerically(">", 0))
	}, SpecTimeout(specTimeout))
})

var _ = Describe("migration bridge", func() {
	It("reaches a legacy Eureka app through the mesh and shows a mesh app in legacy Eureka, without copies of copies", func(ctx SpecContext) {
		res := run(ctx, "migration-bridge")
		Expect(framework.Traffic(res, "through-mesh").Summary.ErrorRate).To(BeZero())
		Expect(framework.Step(res, "assert", "billing-v1-1's removal reaches the mesh").Status).To(Equal(report.Passed))
		Expect(framework.Step(res, "assert", "orders' removal reaches legacy Eureka").Status).To(Equal(report.Passed))
	}, SpecTimeout(specTimeout))
})

// expectMigrated checks a gateway -> orders -> payments migration: every
// request of its traffic (requests in all) answered (none only after a
// client re-sent it: the retries behind an answer are the mesh's, which
// the report counts), every shift and drain passed.
func expectMigrated(res *report.Result, requests int) *report.TrafficReport {
	main := framework.Traffic(res, "main")
	Expect(main.Summary.Requests).To(Equal(requests))
	Expect(main.Summary.ErrorRate).To(BeZero())
	Expect(res.Requests).NotTo(BeNil())
	Expect([]int{res.Requests.Sent, res.Requests.Failed, res.Requests.Resent}).To(Equal([]int{requests, 0, 0}))
	GinkgoWriter.Printf("%s: %s\n", res.Name, res.Requests)
	for _, svc := range []string{"payments", "orders", "gateway"} {
		Expect(framework.Step(res, "shift", svc).Status).To(Equal(report.Passed), svc)
		Expect(framework.Step(res, "drain", svc).Status).To(Equal(report.Passed), svc)
	}
	return main
}

var _ = Describe("migration from Eureka", func() {
	It("moves gateway, orders and payments onto the mesh callees first without a failed request, then retires the legacy Eureka", func(ctx SpecContext) {
		res := run(ctx, "migration-eureka")
		main := expectMigrated(res, 6000)
		// The timeline tells the gateway's legacy answers from its mesh ones.
		origins := map[string]int{}
		for _, sec := range main.Timeline {
			for _, s := range sec.Served {
				origins[s.Origin] += s.Count
			}
		}
		Expect(origins["legacy"]).To(BeNumerically(">", 0))
		Expect(origins["mesh"]).To(BeNumerically(">", 0))
		Expect(origins["legacy"] + origins["mesh"]).To(Equal(6000))
	}, SpecTimeout(specTimeout))
})

var _ = Describe("migration from Consul", func() {
	It("moves gateway, orders and payments onto the mesh callees first without a failed request, then retires the legacy Consul", func(ctx SpecContext) {
		res := run(ctx, "migration-consul")
		expectMigrated(res, 6000)
	}, SpecTimeout(specTimeout))
})

var _ = Describe("migration from ZooKeeper", func() {
	It("moves gateway, orders and payments off a real ZooKeeper onto the mesh callees first without a failed request, then retires it", func(ctx SpecContext) {
		// Without ZooKeeper the runner skips the scenario and says why;
		// where it is required (CI), a missing one fails instead.
		if os.Getenv(zookeepertest.EnvRequire) != "" {
			_, err := zkserver.Find()
			Expect(err).NotTo(HaveOccurred(), "%s is set", zookeepertest.EnvRequire)
		}
		res := run(ctx, "migration-zookeeper")
		expectMigrated(res, 6000)
		Expect(framework.Step(res, "assert", "legacy ZooKeeper holds only the copies").Status).To(Equal(report.Passed))
	}, SpecTimeout(specTimeout))
})

var _ = Describe("migration from Nacos", func() {
	It("moves gateway, orders and payments onto the mesh callees first, draining by enabled=false, without a failed request, then retires the legacy Nacos", func(ctx SpecContext) {
		res := run(ctx, "migration-nacos")
		expectMigrated(res, 6000)
		// Each service's nine stopped legacy instances opened the deletion
		// breaker, its held copies disabled (not routed); it is released
		// after each drain.
		Expect(framework.Step(res, "releaseBreaker", "syncer").Status).To(Equal(report.Passed))
	}, SpecTimeout(specTimeout))
})

var _ = Describe("migration rolled back", func() {
	It("takes orders back to legacy halfway while payments stays moved, without a failed request", func(ctx SpecContext) {
		res := run(ctx, "migration-rollback")
		Expect(framework.Traffic(res, "main").Summary.Requests).To(Equal(3100))
		Expect(framework.Traffic(res, "main").Summary.ErrorRate).To(BeZero())
		back := res.Steps[6] // the rollback under traffic (steps 0 and 1 park the mesh instances)
		Expect(back.Action).To(Equal("rollback"))
		Expect(back.Message).To(ContainSubstring("mesh got 0.0%"))
		Expect(framework.Step(res, "drain", "orders-v2").Status).To(Equal(report.Passed))
	}, SpecTimeout(specTimeout))
})

var _ = Describe("migration with the syncer killed mid-shift", func() {
	It("holds the split while the syncer is down, completes the shift after, and fails no request", func(ctx SpecContext) {
		res := run(ctx, "migration-syncer-restart")
		Expect(framework.Traffic(res, "main").Summary.Requests).To(Equal(2200))
		Expect(framework.Traffic(res, "main").Summary.ErrorRate).To(BeZero())
		Expect(framework.Step(res, "drain", "payments-v1").Status).To(Equal(report.Passed))
	}, SpecTimeout(specTimeout))
})

var _ = Describe("the runner itself", func() {
	It("fails a scenario whose expectation the mesh does not meet, naming the step", func(ctx SpecContext) {
		s, err := framework.Scenario("../testdata/must-fail.yaml")
		Expect(err).NotTo(HaveOccurred())
		res := framework.Run(ctx, s, "process", bin)
		Expect(res.Status).To(Equal(report.Failed), framework.Summary(res))
		wrong := framework.Step(res, "assert", "wrong on purpose")
		Expect(wrong.Status).To(Equal(report.Failed))
		Expect(wrong.Message).To(ContainSubstring("v2 got 0.00%"))
		// The failed check did not stop the later ones.
		Expect(res.Steps[len(res.Steps)-1].Status).To(Equal(report.Passed))
		Expect(res.WorkDir).NotTo(BeEmpty(), "a failed run keeps its logs")
	}, SpecTimeout(specTimeout))

	It("stops every component when interrupted and exits 130", func(ctx SpecContext) {
		root, err := framework.Root()
		Expect(err).NotTo(HaveOccurred())
		cmd := exec.Command(bin+"/scenario", "run", "--bin", bin, root+"/scenarios/registry-restart.yaml")
		out := gbytes.NewBuffer()
		sess, err := gexec.Start(cmd, out, out)
		Expect(err).NotTo(HaveOccurred())
		defer sess.Kill()
		Eventually(out).WithTimeout(time.Minute).Should(gbytes.Say(`during`))
		Expect(framework.Stray(bin)).NotTo(BeEmpty(), "the topology should be running")
		sess.Signal(syscall.SIGINT)
		Eventually(sess).WithTimeout(time.Minute).Should(gexec.Exit(130))
		Expect(string(out.Contents())).To(ContainSubstring("INTERRUPTED  registry-restart"))
		Expect(string(out.Contents())).To(ContainSubstring("0 failed, 0 skipped, 1 interrupted"))
		Expect(framework.Stray(bin)).To(BeEmpty())
	}, SpecTimeout(2*time.Minute))
})
