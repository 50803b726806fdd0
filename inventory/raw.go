package inventory

// opt is a value as written in the file, remembering whether it was written
// at all, so that a node's explicit "sudo: false" overrides a default "true".
type opt[T any] struct {
	v   T
	set bool
}

// or returns o when it was written, else def.
func (o opt[T]) or(def opt[T]) opt[T] {
	if o.set {
		return o
	}
	return def
}

// rawSSH is an ssh section as written (top level or per node).
type rawSSH struct {
	user, identityFile, knownHosts, proxyJump, sudoPasswordFile, sshConfig opt[string]
	port                                                                   opt[int]
	sudo                                                                   opt[bool]
}

// over fills the fields a node did not write from the top-level section.
func (s rawSSH) over(def rawSSH) rawSSH {
	return rawSSH{
		user:             s.user.or(def.user),
		identityFile:     s.identityFile.or(def.identityFile),
		knownHosts:       s.knownHosts.or(def.knownHosts),
		proxyJump:        s.proxyJump.or(def.proxyJump),
		sudoPasswordFile: s.sudoPasswordFile.or(def.sudoPasswordFile),
		sshConfig:        s.sshConfig.or(def.sshConfig),
		port:             s.port.or(def.port),
		sudo:             s.sudo.or(def.sudo),
	}
}

// rawSettings are node settings as written (node_defaults or per node).
type rawSettings struct {
	config, envFile, unit, api, apiCACert, apiServerName, backupDir, vaultBlock opt[string]
}

// over fills the fields a node did not write from node_defaults.
func (s rawSettings) over(def rawSettings) rawSettings {
	return rawSettings{
		config:        s.config.or(def.config),
		envFile:       s.envFile.or(def.envFile),
		unit:          s.unit.or(def.unit),
		api:           s.api.or(def.api),
		apiCACert:     s.apiCACert.or(def.apiCACert),
		apiServerName: s.apiServerName.or(def.apiServerName),
		backupDir:     s.backupDir.or(def.backupDir),
		vaultBlock:    s.vaultBlock.or(def.vaultBlock),
	}
}

// rawNode is one entry of nodes[] as written.
type rawNode struct {
	name, address string
	ssh           rawSSH
	settings      rawSettings
}
