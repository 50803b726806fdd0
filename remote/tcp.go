package remote

import (
	"context"
	"fmt"
	"net"
)

// DialTCP opens a direct-tcpip channel: a TCP connection made by the node's
// sshd to addr, so the key manager API on the node's loopback is reachable
// without opening its port to the operator. The connection dies with the
// node's SSH connection.
func (n *sshNode) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	if err := n.conn.err(); err != nil {
		return nil, n.opError(err)
	}
	ctx, cancel := context.WithTimeout(ctx, n.h.connectTimeout)
	defer cancel()
	c, err := n.conn.client.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, n.opError(fmt.Errorf("tcp connection to %s from the node: %w", addr, err))
	}
	return c, nil
}
