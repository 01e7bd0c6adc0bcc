//go:build !race

package nacos_test

// raceDetector is set when the tests run with -race.
const raceDetector = false
