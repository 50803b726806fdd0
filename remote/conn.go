package remote

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// clientConn is one authenticated SSH connection together with the
// keep-alive that watches it. When the peer stops answering, the keep-alive
// closes the connection, which makes every pending session fail at once
// instead of hanging.
type clientConn struct {
	client  *ssh.Client
	done    chan struct{} // closed when the connection has ended
	release func()        // gives back the bastion this connection rides on

	mu    sync.Mutex
	cause error // why the connection ended, when it did not end by close()

	closeOnce sync.Once
}

// newClientConn wraps client and starts its watchers.
func newClientConn(client *ssh.Client, release func(), interval time.Duration, maxMissed int) *clientConn {
	c := &clientConn{client: client, done: make(chan struct{}), release: release}
	go func() {
		_ = client.Wait()
		close(c.done)
	}()
	go c.keepAlive(interval, maxMissed)
	return c
}

// keepAlive sends keepalive@openssh.com every interval; maxMissed intervals
// without a reply kill the connection. Any reply, even a refusal, proves the
// peer is alive.
func (c *clientConn) keepAlive(interval time.Duration, maxMissed int) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	replies := make(chan error, 1)
	inFlight, missed := false, 0
	for {
		select {
		case <-c.done:
			return
		case err := <-replies:
			inFlight, missed = false, 0
			if err != nil {
				c.kill(fmt.Errorf("%w: keep-alive: %v", ErrConnectionLost, err))
				return
			}
		case <-ticker.C:
			if inFlight {
				if missed++; missed >= maxMissed {
					c.kill(fmt.Errorf("%w: no keep-alive reply for %s", ErrConnectionLost, time.Duration(missed)*interval))
					return
				}
				continue
			}
			inFlight = true
			go func() {
				_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
				replies <- err
			}()
		}
	}
}

// kill ends the connection, remembering why.
func (c *clientConn) kill(cause error) {
	c.mu.Lock()
	if c.cause == nil {
		c.cause = cause
	}
	c.mu.Unlock()
	_ = c.client.Close()
}

// err returns nil while the connection is up, else why it is not. The cause
// is checked first: kill records it before closing, so an operation failing
// because of that close already sees why.
func (c *clientConn) err() error {
	c.mu.Lock()
	cause := c.cause
	c.mu.Unlock()
	if cause != nil {
		return cause
	}
	select {
	case <-c.done:
		return ErrConnectionLost
	default:
		return nil
	}
}

// close ends the connection and releases its bastion; safe to call twice.
func (c *clientConn) close() error {
	c.closeOnce.Do(func() {
		c.kill(errClosed)
		<-c.done
		if c.release != nil {
			c.release()
		}
	})
	return nil
}
