// Command bench measures kmsctl against an equivalent Ansible rollout on the
// same running lab (issue 3 section 5 and issue 7), so that the numbers in
// docs/performance.md can be reproduced with one command:
//
//	cd lab && go run ./bench -dir /tmp/kmslab -kmsctl /tmp/kmsctl-bench
//
// Cases: "status" (kmsctl status with the lab's API key, so with the cluster
// view) and "status-nokey" (the same facts without it) against one ad-hoc
// `ansible -m shell` of the same facts, forks = node count; "migrate" (the
// full two-stage `kmsctl hsm enable-vault`) against playbook.yml. Every run
// of "migrate" starts from the lab's `up` state: the driver snapshots the
// files a migration changes before the first run and puts them back (with
// owners and modes), removes kmsctl's and Ansible's backups and locks,
// restarts every node and waits until `kmsctl status` exits 0. The tools
// alternate (kmsctl first on even runs, Ansible first on odd ones).
//
// The floor of a migration is the time the nodes themselves need: for each
// restart, from systemd's "Stopping" line to the stand-in's first "cluster:
// following leader" or "cluster: elected leader" line after "Started" (the
// node is unsealed and in a quorum with a leader, which is what
// /v1/health/ready waits for), read from every node's journal and summed,
// since both tools restart one node at a time. The settle period (the same
// policy wait in both tools) is reported separately; kmsctl's overhead is its
// wall time minus the floor minus the settle waits.
package main
