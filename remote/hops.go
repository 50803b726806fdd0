package remote

import (
	"context"
	"fmt"
	"sync"
)

// hopCache shares one connection per bastion between all the nodes behind
// it, so ten nodes through one bastion cost one bastion login. A bastion
// connection is closed when the last node using it is closed.
type hopCache struct {
	mu   sync.Mutex
	hops map[string]*sharedHop
}

// sharedHop is one bastion connection, being dialled until ready is closed.
type sharedHop struct {
	ready chan struct{}
	conn  *clientConn
	err   error
	refs  int
}

// hopKey identifies a bastion by everything that makes its connection.
func hopKey(t Target) string {
	key := fmt.Sprintf("%s@%s|%s|%s", t.User, knownHostsAddr(t), t.IdentityFile, t.KnownHosts)
	if t.ProxyJump != nil {
		key += ">" + hopKey(*t.ProxyJump)
	}
	return key
}

// acquire returns a live connection to bastion t (dialling it with dial if
// needed) and the func that gives it back.
func (c *hopCache) acquire(ctx context.Context, t Target, dial func(context.Context, Target) (*clientConn, error)) (*clientConn, func(), error) {
	key := hopKey(t)
	h, first := c.take(key)
	if first {
		h.conn, h.err = dial(ctx, t)
		close(h.ready)
	}
	select {
	case <-h.ready:
	case <-ctx.Done():
		c.give(key, h)
		return nil, nil, ctx.Err()
	}
	if h.err != nil {
		c.give(key, h)
		return nil, nil, h.err
	}
	var once sync.Once
	return h.conn, func() { once.Do(func() { c.give(key, h) }) }, nil
}

// take finds or creates the entry for key and counts one more user. Dead or
// failed entries are replaced, so a later node retries the bastion.
func (c *hopCache) take(key string) (*sharedHop, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.hops[key]; h != nil && h.usable() {
		h.refs++
		return h, false
	}
	h := &sharedHop{ready: make(chan struct{}), refs: 1}
	c.hops[key] = h
	return h, true
}

// give drops one user; the last one closes the connection.
func (c *hopCache) give(key string, h *sharedHop) {
	c.mu.Lock()
	h.refs--
	last := h.refs == 0
	if last && c.hops[key] == h {
		delete(c.hops, key)
	}
	c.mu.Unlock()
	if last && h.conn != nil {
		h.conn.close()
	}
}

// usable reports whether new users may join h: still dialling, or connected
// and alive.
func (h *sharedHop) usable() bool {
	select {
	case <-h.ready:
		return h.err == nil && h.conn.err() == nil
	default:
		return true
	}
}
