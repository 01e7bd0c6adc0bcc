package spec

import (
	"math"
	"testing"
)

func TestShiftCountsTakeTheNearestShareWithMostInstancesUP(t *testing.T) {
	for _, tc := range []struct {
		share          float64
		nLegacy, nMesh int
		mesh, legacy   int
		got            float64
	}{
		{1.0 / 3, 2, 2, 1, 2, 1.0 / 3},
		{0.5, 2, 2, 2, 2, 0.5}, // not 1 and 1: as many UP as make the share
		{1, 2, 2, 2, 0, 1},
		{0, 2, 2, 0, 2, 0},
		{0.1, 9, 1, 1, 9, 0.1},
		{0.1, 2, 2, 0, 2, 0}, // 0% is nearer than 33%
	} {
		m, l, got := ShiftCounts(tc.share, tc.nLegacy, tc.nMesh)
		if m != tc.mesh || l != tc.legacy || math.Abs(got-tc.got) > 1e-9 {
			t.Errorf("ShiftCounts(%v, %d legacy, %d mesh) = %d mesh, %d legacy, %v; want %d, %d, %v", tc.share, tc.nLegacy, tc.nMesh, m, l, got, tc.mesh, tc.legacy, tc.got)
		}
	}
}
