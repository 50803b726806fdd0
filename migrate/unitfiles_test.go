package migrate

import (
	"reflect"
	"testing"
)

// systemctl show's own format (systemd 252), as the preflight reads it.
func TestParseUnitFiles(t *testing.T) {
	out := "ExecStart={ path=/usr/local/bin/minkms ; argv[]=/usr/local/bin/minkms server $MINIO_KMS_VOLUME $MINIO_KMS_OPTS ; ignore_errors=no ; start_time=[Thu 2026-12-03 08:00:00 UTC] ; stop_time=[n/a] ; pid=812 ; code=(null) ; status=0/0 }\n" +
		"EnvironmentFiles=/etc/default/minkms (ignore_errors=yes)\n" +
		"EnvironmentFiles=/etc/default/minkms-extra (ignore_errors=no)\n" +
		"Environment=GOMAXPROCS=2 \"MINIO_KMS_OPTS=--config /srv/kms.yaml\"\n" +
		"FragmentPath=/etc/systemd/system/minkms.service\n" +
		"DropInPaths=/etc/systemd/system/minkms.service.d/a.conf /etc/systemd/system/minkms.service.d/b.conf\n"
	u := parseUnitFiles([]byte(out))
	want := UnitFiles{
		Argv:        []string{"/usr/local/bin/minkms", "server", "$MINIO_KMS_VOLUME", "$MINIO_KMS_OPTS"},
		EnvFiles:    []string{"/etc/default/minkms", "/etc/default/minkms-extra"},
		Environment: []string{"GOMAXPROCS=2", "MINIO_KMS_OPTS=--config /srv/kms.yaml"},
		Sources:     []string{"/etc/systemd/system/minkms.service", "/etc/systemd/system/minkms.service.d/a.conf", "/etc/systemd/system/minkms.service.d/b.conf"},
	}
	if !reflect.DeepEqual(u, want) {
		t.Fatalf("got %+v\nwant %+v", u, want)
	}
	if c := daemonConfig(u, nil); c != "/srv/kms.yaml" {
		t.Fatalf("daemonConfig from Environment= = %q", c)
	}
	envs := map[string][]byte{"/etc/default/minkms": []byte("MINIO_KMS_OPTS=\"--host h:7373 --config=/etc/kms/c.yaml\"\n")}
	if c := daemonConfig(u, envs); c != "/etc/kms/c.yaml" {
		t.Fatalf("daemonConfig = %q", c)
	}
	u.Argv = []string{"/usr/local/bin/minkms", "server", "--config", "/opt/c.yaml"}
	if c := daemonConfig(u, envs); c != "/opt/c.yaml" {
		t.Fatalf("daemonConfig from argv = %q", c)
	}
}
