// Package migrate is the rollout state machine that moves a key manager
// cluster from its local HSM key to Vault transit: node facts, the plan
// and its saved form, the restart order, the node steps of stage 1 (Vault
// block) and stage 2 (remove the local key), the health gates, locks,
// backups, rollback and the event stream. File formats, the Vault check
// and the key manager API live in its sub-packages (see docs/design.md).
package migrate
