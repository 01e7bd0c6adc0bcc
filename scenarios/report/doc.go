// Package report holds the results of scenario runs and writes them: a
// human summary, JUnit XML (one test suite per scenario, one test case per
// step) and JSON.
package report
