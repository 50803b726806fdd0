package labdir

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"aead.dev/mtls"
	"github.com/minio/kms-go/kms"
	"github.com/minio/kms-go/kms/cmds"
	pb "github.com/minio/kms-go/kms/protobuf"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/kmsctl/kmsctl/lab/internal/sdkwire"
)

// KMSClient is a client of the public SDK (kms-go) for one node, authenticated
// with the lab's API key (DIR/secrets/api-key) and trusting only the lab CA.
func (l Layout) KMSClient(endpoint string) (*kms.Client, error) {
	key, err := l.ReadSecret(SecretAPIKey)
	if err != nil {
		return nil, fmt.Errorf("read lab API key: %w", err)
	}
	return NewKMSClient(l, endpoint, strings.TrimSpace(key))
}

// NewKMSClient is KMSClient with another API key (tests use a foreign one).
func NewKMSClient(l Layout, endpoint, apiKey string) (*kms.Client, error) {
	key, err := mtls.ParsePrivateKey(apiKey)
	if err != nil {
		return nil, fmt.Errorf("parse API key: %w", err)
	}
	pem, err := os.ReadFile(l.CACert())
	if err != nil {
		return nil, fmt.Errorf("read lab CA: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return kms.NewClient(&kms.Config{Endpoints: []string{endpoint}, APIKey: key, TLS: &tls.Config{RootCAs: pool}})
}

// ClusterStatus runs the admin ClusterStatus command with the SDK's own
// framing (cmds) and protobuf types, but reads the body itself: the SDK's
// Client.ClusterStatus panics on responses of 1001..1024 bytes (its buffer pool
// hands out a 1 KB buffer for sizes up to 1 KiB), which a 5-node cluster hits.
func ClusterStatus(ctx context.Context, c *kms.Client) (*kms.ClusterStatusResponse, error) {
	data, err := clusterStatusBody(ctx, c)
	if err != nil {
		return nil, err
	}
	var out kms.ClusterStatusResponse
	rest, err := cmds.Decode[pb.ClusterStatusResponse](data, cmds.ClusterStatus, &out)
	if err != nil {
		return nil, fmt.Errorf("decode ClusterStatus response: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("ClusterStatus response has trailing data")
	}
	return &out, nil
}

func clusterStatusBody(ctx context.Context, c *kms.Client) ([]byte, error) {
	body, err := cmds.Encode(nil, cmds.ClusterStatus, &kms.ClusterStatusRequest{})
	if err != nil {
		return nil, fmt.Errorf("encode ClusterStatus: %w", err)
	}
	return sdkwire.Call(ctx, c, "", body)
}

// HSMLists are one node's ServerStatusResponse fields 19 (hsm: HSMs with a
// sealed root key entry) and 20 (hsm_active: HSMs configured).
type HSMLists struct {
	Sealed, Configured []string
}

// ClusterHSMs runs ClusterStatus and returns each up node's HSM lists. The
// SDK version in go.mod predates fields 19 and 20, so they are read from
// the message's unknown fields.
func ClusterHSMs(ctx context.Context, c *kms.Client) (map[uint32]HSMLists, error) {
	data, err := clusterStatusBody(ctx, c)
	if err != nil {
		return nil, err
	}
	var cs pb.ClusterStatusResponse
	if _, err := cmds.DecodePB(data, cmds.ClusterStatus, &cs); err != nil {
		return nil, fmt.Errorf("decode ClusterStatus response: %w", err)
	}
	out := map[uint32]HSMLists{}
	for id, n := range cs.NodesUp {
		var l HSMLists
		b := n.ProtoReflect().GetUnknown()
		for len(b) > 0 {
			num, typ, k := protowire.ConsumeTag(b)
			if k < 0 {
				return nil, fmt.Errorf("node %d: bad unknown field", id)
			}
			b = b[k:]
			if typ != protowire.BytesType || (num != 19 && num != 20) {
				k = protowire.ConsumeFieldValue(num, typ, b)
			} else {
				var v string
				v, k = protowire.ConsumeString(b)
				if num == 19 {
					l.Sealed = append(l.Sealed, v)
				} else {
					l.Configured = append(l.Configured, v)
				}
			}
			if k < 0 {
				return nil, fmt.Errorf("node %d: bad field %d", id, num)
			}
			b = b[k:]
		}
		out[id] = l
	}
	return out, nil
}
