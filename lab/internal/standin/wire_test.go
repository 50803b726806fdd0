package standin

import (
	"slices"
	"testing"
	"time"

	"github.com/minio/kms-go/kms"
	"github.com/minio/kms-go/kms/cmds"
	pb "github.com/minio/kms-go/kms/protobuf"
	"google.golang.org/protobuf/encoding/protowire"
)

// TestClusterStatusDecodesWithSDKTypes decodes the hand-encoded answer with
// the public SDK's generated protobuf types and framing decoder.
func TestClusterStatusDecodesWithSDKTypes(t *testing.T) {
	nodes := map[uint32]string{1: "10.213.0.11:7373", 2: "10.213.0.12:7373", 3: "10.213.0.13:7373"}
	cs := ClusterStatus{
		NodesUp: map[uint32]NodeStatus{
			1: {Version: "2025-10-01T00-00-00Z", Host: "10.213.0.11:7373", Uptime: 90*time.Second + 5, Role: RoleLeader,
				Nodes: nodes, ID: 1, LeaderID: 1, HSM: []string{"local", "vault:transit/k"}, HSMActive: []string{"local"}},
			2: {Role: RoleFollower, Nodes: nodes, ID: 2, LeaderID: -1},
		},
		NodesDown: map[uint32]string{3: "10.213.0.13:7373"},
	}
	body := Frame(CmdClusterStatus, AppendClusterStatus(nil, cs))
	var got pb.ClusterStatusResponse
	rest, err := cmds.DecodePB(body, cmds.ClusterStatus, &got)
	if err != nil || len(rest) != 0 {
		t.Fatalf("DecodePB: %v, %d bytes left", err, len(rest))
	}
	if len(got.NodesUp) != 2 || got.NodesDown[3] != "10.213.0.13:7373" {
		t.Fatalf("got %v", &got)
	}
	leader := got.NodesUp[1]
	if leader.Version != "2025-10-01T00-00-00Z" || leader.Host != "10.213.0.11:7373" || leader.Role != "Leader" ||
		leader.ID != 1 || leader.LeaderID != 1 || leader.Nodes[2] != "10.213.0.12:7373" ||
		leader.UpTime.AsDuration() != 90*time.Second+5 || leader.APIVersion != "v1" {
		t.Errorf("leader = %v", leader)
	}
	if f := got.NodesUp[2]; f.LeaderID != -1 || f.Role != "Follower" || f.ID != 2 {
		t.Errorf("follower = %v", f)
	}
	hsm, active := unknownStrings(t, leader.ProtoReflect().GetUnknown())
	if !slices.Equal(hsm, []string{"local", "vault:transit/k"}) || !slices.Equal(active, []string{"local"}) {
		t.Errorf("hsm = %v, hsm_active = %v", hsm, active)
	}
}

// unknownStrings reads fields 19 and 20, which the public .proto lacks.
func unknownStrings(t *testing.T, b []byte) (f19, f20 []string) {
	t.Helper()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		b = b[n:]
		if typ != protowire.BytesType {
			t.Fatalf("field %d has type %v", num, typ)
		}
		v, m := protowire.ConsumeString(b)
		b = b[m:]
		switch num {
		case 19:
			f19 = append(f19, v)
		case 20:
			f20 = append(f20, v)
		default:
			t.Fatalf("unexpected unknown field %d", num)
		}
	}
	return f19, f20
}

func TestParseCommands(t *testing.T) {
	empty, err := cmds.EncodePB(nil, cmds.ClusterStatus, &pb.ClusterStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body []byte
		ids  []uint16
		ok   bool
	}{
		{"sdk cluster status", empty, []uint16{3}, true},
		{"two commands", append(slices.Clone(empty), Frame(204, []byte{1, 2})...), []uint16{3, 204}, true},
		{"empty", nil, nil, false},
		{"short header", []byte{0, 3, 0}, nil, false},
		{"length past end", []byte{0, 3, 0, 0, 0, 9, 1}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCommands(tt.body)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
			var ids []uint16
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, tt.ids) {
				t.Errorf("ids = %v, want %v", ids, tt.ids)
			}
		})
	}
}

// TestWriteCommandsFromSDK decodes requests the SDK encodes.
func TestWriteCommandsFromSDK(t *testing.T) {
	body, err := cmds.Encode(nil, cmds.KeyCreate, &kms.CreateKeyRequest{Name: "k", Type: kms.ChaCha20, AddVersion: true})
	if err != nil {
		t.Fatal(err)
	}
	body, err = cmds.Encode(body, cmds.EnclaveCreate, &kms.CreateEnclaveRequest{Name: "e"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCommands(body)
	if err != nil || len(got) != 2 {
		t.Fatalf("ParseCommands: %v, %v", got, err)
	}
	op, err := writeCommand(got[0], "tenant")
	if err != nil || op.Kind != opCreateKey || op.Name != "k" || op.Enclave != "tenant" || op.Type != keyChaCha20 || !op.AddVersion {
		t.Errorf("KeyCreate: %+v, %v", op, err)
	}
	if op, err := writeCommand(got[1], ""); err != nil || op.Kind != opCreateEnclave || op.Name != "e" {
		t.Errorf("EnclaveCreate: %+v, %v", op, err)
	}
	if _, err := writeCommand(Command{ID: CmdKeyCreate, Msg: []byte{0x0a, 0x01, 'k', 0x12, 0x03, 'D', 'E', 'S'}}, "e"); err == nil {
		t.Error("key type DES accepted")
	}
	if _, err := writeCommand(Command{ID: CmdRemoveHSM}, ""); err == nil {
		t.Error("RemoveHSM without a name accepted")
	}
}
