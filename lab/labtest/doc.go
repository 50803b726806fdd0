// Package labtest holds the lab's own end-to-end tests. They run against a lab
// that is already up and skip otherwise:
//
//	lab/lab up --nodes 3 --dir /tmp/kmslab
//	cd lab && KMSCTL_LAB_DIR=/tmp/kmslab go test -count=1 ./labtest/
//
// Each test leaves the lab as it found it (files restored, units restarted,
// faults healed). TestDownLeavesNothing takes the lab down and brings it up
// again with the same number of nodes and fresh keys.
package labtest
