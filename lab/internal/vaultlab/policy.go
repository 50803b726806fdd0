package vaultlab

import (
	"fmt"
	"strings"
)

// Names the lab's Vault set-up uses (docs/design.md, "Vault set-up (lab)");
// kmsctl's tests and the inventory refer to them.
const (
	TransitMount  = "transit"
	Transit2Mount = "kms-transit"
	KeyName       = "minkms-sealing-key"
	KeyType       = "aes256-gcm96"

	ApproleMount  = "approle"
	Approle2Mount = "kms-approle"
	K8sMount      = "kubernetes"

	RoleMinkms   = "minkms"        // approle/ and kubernetes/, policy minkms
	RoleMinkms2  = "minkms2"       // kms-approle/, policy minkms2
	RoleNoHMAC   = "minkms-nohmac" // approle/, policy minkms-nohmac
	RoleRotate   = "minkms-rotate" // approle/, policy minkms-rotate
	PolicyMinkms = "minkms"
	Policy2      = "minkms2"
	PolicyNoHMAC = "minkms-nohmac"
	// PolicyRotate is the rotation identity's (kmsctl hsm rotate): read the
	// key's versions, rotate it, set its min_decryption_version. The nodes'
	// policy stays the three update paths.
	PolicyRotate = "minkms-rotate"

	K8sNamespace      = "minio"
	K8sServiceAccount = "minkms"
)

// keyOps are the three transit operations of the seed page's policy.
var keyOps = []string{"encrypt", "decrypt", "hmac"}

// transitPolicy is an HCL policy granting exactly `update` on the given
// operations of one transit key, written as the seed page writes it.
func transitPolicy(mount, key string, ops ...string) string {
	var b strings.Builder
	for _, op := range ops {
		fmt.Fprintf(&b, "path %q {\n   capabilities = [ \"update\" ]\n}\n", mount+"/"+op+"/"+key)
	}
	return b.String()
}

// labPolicies maps each lab policy name to its HCL.
func labPolicies() map[string]string {
	return map[string]string{
		PolicyMinkms: transitPolicy(TransitMount, KeyName, keyOps...),
		Policy2:      transitPolicy(Transit2Mount, KeyName, keyOps...),
		PolicyNoHMAC: transitPolicy(TransitMount, KeyName, "encrypt", "decrypt"),
		PolicyRotate: rotatePolicy(TransitMount, KeyName),
	}
}

// rotatePolicy grants what `kmsctl hsm rotate --rotate --retire-old-versions`
// needs on one key, and nothing the nodes use.
func rotatePolicy(mount, key string) string {
	k := mount + "/keys/" + key
	return fmt.Sprintf("path %q {\n   capabilities = [ \"read\" ]\n}\npath %q {\n   capabilities = [ \"update\" ]\n}\npath %q {\n   capabilities = [ \"update\" ]\n}\n", k, k+"/rotate", k+"/config")
}
