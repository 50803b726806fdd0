package load

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minio/kms-go/kms"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
)

// labNet is the lab's fixed network (docs/design.md, "The lab network"):
// the load sends nothing anywhere else but loopback.
var labNet = netip.MustParsePrefix("10.213.0.0/24")

// checkLabEndpoint refuses an endpoint outside the lab's network.
func checkLabEndpoint(ep string) error {
	host, _, err := net.SplitHostPort(ep)
	if err != nil {
		return fmt.Errorf("endpoint %q: %w", ep, err)
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !(labNet.Contains(a) || a.IsLoopback()) {
		return fmt.Errorf("endpoint %q: not a lab address (10.213.0.0/24 or loopback)", ep)
	}
	return nil
}

// Client sends each request to one node and, when that node cannot serve
// it, to the next, as the SDK's load balancer (kms-go internal/https) does:
// a random first node among those not suspended, a node whose request
// failed suspended for SuspendFor (the SDK's 30 s), the others tried in
// order. Two departures, both what a real client of a restarting cluster
// does: a read is also retried on a 5xx answer (a node that is up but not
// ready answers 503), and when every node is suspended they are tried too,
// longest suspended first, rather than failing at once.
type Client struct {
	hosts      []string
	nodes      map[string]*kms.Client
	suspendFor time.Duration
	tryTimeout time.Duration

	mu        sync.Mutex
	suspended map[string]time.Time
}

// NewClient builds a client of the lab in dir for the given endpoints
// (host:port), with the lab's API key and CA.
func NewClient(dir string, endpoints []string, suspendFor, tryTimeout time.Duration) (*Client, error) {
	c := &Client{hosts: endpoints, nodes: map[string]*kms.Client{}, suspendFor: suspendFor,
		tryTimeout: tryTimeout, suspended: map[string]time.Time{}}
	for _, ep := range endpoints {
		if err := checkLabEndpoint(ep); err != nil {
			return nil, err
		}
		kc, err := labdir.Layout{Root: dir}.KMSClient(ep)
		if err != nil {
			return nil, fmt.Errorf("client of %s: %w", ep, err)
		}
		c.nodes[ep] = kc
	}
	if len(c.hosts) == 0 {
		return nil, errors.New("load: no endpoints")
	}
	return c, nil
}

// Node is the direct client of one endpoint (no failover), for checks that
// must ask each node itself.
func (c *Client) Node(ep string) *kms.Client { return c.nodes[ep] }

// order is the sequence of nodes one request tries.
func (c *Client) order(now time.Time) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := rand.IntN(len(c.hosts))
	var free, held []string
	for i := range c.hosts {
		h := c.hosts[(start+i)%len(c.hosts)]
		if at, ok := c.suspended[h]; ok && now.Sub(at) < c.suspendFor {
			held = append(held, h)
		} else {
			free = append(free, h)
		}
	}
	// longest suspended first: the likeliest to be back
	slices.SortStableFunc(held, func(a, b string) int { return c.suspended[a].Compare(c.suspended[b]) })
	return append(free, held...)
}

// suspend excludes a node that failed a request, as the SDK does.
func (c *Client) suspend(h string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.suspended[h] = now
}

// Do runs fn against the nodes in failover order until one serves it or
// an error is not worth another node; it returns how many nodes it asked.
func (c *Client) Do(ctx context.Context, read bool, fn func(context.Context, *kms.Client) error) (int, error) {
	var err error
	tries := 0
	for _, h := range c.order(time.Now()) {
		if ctx.Err() != nil {
			break
		}
		tries++
		tctx, cancel := context.WithTimeout(ctx, c.tryTimeout)
		err = fn(tctx, c.nodes[h])
		cancel()
		if err == nil {
			return tries, nil
		}
		if !retryable(err, read) {
			return tries, err
		}
		c.suspend(h, time.Now())
	}
	return tries, err
}

// retryable: a transport failure always (the SDK's rule), a 5xx answer for
// a read; never an answer about the request itself (4xx) or a cancel.
func retryable(err error, read bool) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var ke kms.Error
	if errors.As(err, &ke) {
		return read && ke.Code >= 500
	}
	return true
}

// errText is an error's text without the node's address, so that the same
// failure on different nodes counts once: "503 cluster write refused: ...",
// or the transport error's last part ("connection refused").
func errText(err error) string {
	var ke kms.Error
	if errors.As(err, &ke) {
		return fmt.Sprintf("%d %s", ke.Code, ke.Err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
