package node

// bootTarget is what a node boots instead of multi-user.target: the host's
// enabled services (databases, timers, gettys) must not start in the nodes.
const bootTarget = `[Unit]
Description=kmslab node
Requires=basic.target
Wants=ssh.service minkms.service
After=basic.target
AllowIsolate=yes
`

// journald keeps the journal in memory: fast, and nothing lands in the host's /var/log.
const journaldConf = `[Journal]
Storage=volatile
RuntimeMaxUse=16M
`

// masked are units that would touch the host (kernel settings, devices, clocks,
// consoles) or are pointless in a node. Found by booting systemd 252 here.
var masked = []string{
	"systemd-timesyncd.service", "systemd-sysctl.service", "proc-sys-fs-binfmt_misc.automount",
	"systemd-binfmt.service", "systemd-sysusers.service", "systemd-tmpfiles-setup.service",
	"systemd-tmpfiles-setup-dev.service", "systemd-tmpfiles-clean.timer", "getty.target",
	"console-getty.service", "getty@tty1.service", "systemd-udevd.service", "systemd-udev-trigger.service",
	"systemd-udev-settle.service", "systemd-modules-load.service", "systemd-remount-fs.service",
	"timers.target", "systemd-pstore.service", "sys-kernel-debug.mount", "sys-kernel-tracing.mount",
	"sys-kernel-config.mount", "sys-fs-fuse-connections.mount", "dev-hugepages.mount", "dev-mqueue.mount",
	"kmod-static-nodes.service", "systemd-firstboot.service", "systemd-random-seed.service",
	"systemd-repart.service", "systemd-pcrphase.service", "systemd-pcrphase-sysinit.service",
	"systemd-machine-id-commit.service", "systemd-hwdb-update.service", "cryptsetup.target",
	"systemd-journal-catalog-update.service", "systemd-update-done.service", "ldconfig.service",
	"postgresql.service", "e2scrub_reap.service", "cron.service", "systemd-logind.service",
}

func systemdEntries() []entry {
	out := []entry{
		file("systemd/system/kmslab.target", []byte(bootTarget), 0o644),
		symlink("systemd/system/default.target", "/etc/systemd/system/kmslab.target"),
		file("systemd/journald.conf.d/kmslab.conf", []byte(journaldConf), 0o644),
	}
	for _, u := range masked {
		out = append(out, symlink("systemd/system/"+u, "/dev/null"))
	}
	return out
}
