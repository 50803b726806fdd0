package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/minio/kms-go/kms"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
)

// Config is one load run. Zero fields take the defaults of Defaults.
type Config struct {
	// Dir is the lab directory (API key, CA); Endpoints its nodes' host:port.
	Dir       string
	Endpoints []string
	// Rate is decrypts plus generates per second, half each.
	Rate float64
	// CreateEvery is the interval between key creates.
	CreateEvery time.Duration
	// ProbeEvery is the interval of the write probe, and of a refused
	// create's retries.
	ProbeEvery time.Duration
	// MaxDuration and MaxRequests bound the run: it stops by itself at
	// whichever comes first.
	MaxDuration time.Duration
	MaxRequests int
	// PreKeys are the keys (each with a ciphertext) created before the load.
	PreKeys int
	// Keep is how many generated ciphertexts are kept (a uniform sample)
	// for the final check, besides one per key.
	Keep int
	// SuspendFor is how long a failed node is avoided; TryTimeout bounds
	// one request to one node.
	SuspendFor, TryTimeout time.Duration
}

// Defaults are issue 13's mix: 50 reads/s, one create per second.
var Defaults = Config{Rate: 50, CreateEvery: time.Second, ProbeEvery: 100 * time.Millisecond,
	MaxDuration: 15 * time.Minute, MaxRequests: 200000, PreKeys: 3, Keep: 200,
	SuspendFor: 30 * time.Second, TryTimeout: 2 * time.Second}

func (c Config) withDefaults() Config {
	d := Defaults
	setF(&c.Rate, d.Rate)
	setD(&c.CreateEvery, d.CreateEvery)
	setD(&c.ProbeEvery, d.ProbeEvery)
	setD(&c.MaxDuration, d.MaxDuration)
	setD(&c.SuspendFor, d.SuspendFor)
	setD(&c.TryTimeout, d.TryTimeout)
	setI(&c.MaxRequests, d.MaxRequests)
	setI(&c.PreKeys, d.PreKeys)
	setI(&c.Keep, d.Keep)
	return c
}

func setF(v *float64, d float64) {
	*v = max(*v, 0)
	if *v == 0 {
		*v = d
	}
}
func setD(v *time.Duration, d time.Duration) {
	if *v <= 0 {
		*v = d
	}
}
func setI(v *int, d int) {
	if *v <= 0 {
		*v = d
	}
}

// LabEndpoints are the nodes of the lab in dir (state.json), port 7373.
func LabEndpoints(dir string) ([]string, error) {
	st, err := labdir.Layout{Root: dir}.LoadState()
	if err != nil {
		return nil, err
	}
	var eps []string
	for _, n := range st.Nodes {
		eps = append(eps, n.Address+":7373")
	}
	return eps, nil
}

// item is a ciphertext the load expects to decrypt to plaintext.
type item struct {
	Key        string
	Ciphertext []byte
	Plaintext  []byte
}

// Load is a running load.
type Load struct {
	cfg     Config
	client  *Client
	enclave string
	started time.Time

	mu      sync.Mutex
	outs    []Outcome
	keys    []string // confirmed keys, the pre-run ones first
	pre     int      // how many of keys were created before the run
	perKey  []item   // one ciphertext per key
	sample  []item   // a uniform sample of generated ciphertexts
	seen    int      // generated ciphertexts offered to the sample
	limited string   // why the load stopped by itself

	stop   context.CancelFunc
	done   chan struct{}
	ended  time.Time
	report *Report
}

// Start creates the load's enclave and its first keys, then starts the
// traffic; the caller runs the migration and calls Stop.
func Start(ctx context.Context, cfg Config) (*Load, error) {
	cfg = cfg.withDefaults()
	c, err := NewClient(cfg.Dir, cfg.Endpoints, cfg.SuspendFor, cfg.TryTimeout)
	if err != nil {
		return nil, err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	l := &Load{cfg: cfg, client: c, enclave: "load-" + hex.EncodeToString(b[:]), done: make(chan struct{})}
	if err := l.setup(ctx); err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.MaxDuration)
	l.stop, l.started = cancel, time.Now()
	go l.run(rctx)
	return l, nil
}

// setup creates the enclave and the pre-run keys, each with a ciphertext.
func (l *Load) setup(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := l.client.Do(sctx, false, func(ctx context.Context, kc *kms.Client) error {
		return kc.CreateEnclave(ctx, &kms.CreateEnclaveRequest{Name: l.enclave})
	}); err != nil {
		return fmt.Errorf("load: create enclave %s: %w", l.enclave, err)
	}
	for i := 0; i < l.cfg.PreKeys; i++ {
		name := fmt.Sprintf("%s%d", preRunPrefix, i)
		if err := l.createKey(sctx, name, false); err != nil {
			return fmt.Errorf("load: create key %s: %w", name, err)
		}
		if _, err := l.generate(sctx, name, true); err != nil {
			return fmt.Errorf("load: first ciphertext of %s: %w", name, err)
		}
	}
	l.pre = len(l.keys)
	return nil
}

// run drives the readers, the creator and the probe until ctx ends or a
// bound is reached.
func (l *Load) run(ctx context.Context) {
	defer close(l.done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); l.creator(ctx) }()
	go func() { defer wg.Done(); l.prober(ctx) }()
	l.readers(ctx, cancel, &wg)
	wg.Wait()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		l.setLimited("duration limit")
	}
	l.ended = time.Now()
}

// readers starts one read per tick, alternating decrypt and generate.
func (l *Load) readers(ctx context.Context, cancel context.CancelFunc, wg *sync.WaitGroup) {
	every(ctx, time.Duration(float64(time.Second)/l.cfg.Rate), func(n int) bool {
		if l.count() >= l.cfg.MaxRequests {
			l.setLimited("request limit")
			cancel()
			return false
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n%2 == 0 {
				l.decrypt(ctx)
			} else {
				_, _ = l.generate(ctx, l.randomKey(), false)
			}
		}()
		return true
	})
}

// creator creates a key every CreateEvery; a refused create is retried
// every ProbeEvery (a "key already exists" on a retry: the earlier try
// landed).
func (l *Load) creator(ctx context.Context) {
	every(ctx, l.cfg.CreateEvery, func(n int) bool {
		name := fmt.Sprintf("run-%d", n)
		for retry := false; ctx.Err() == nil; retry = true {
			if l.createKey(ctx, name, retry) == nil {
				_, _ = l.generate(ctx, name, true)
				break
			}
			sleep(ctx, l.cfg.ProbeEvery)
		}
		return true
	})
}

// prober re-creates the first key every ProbeEvery: "key already exists"
// means the write path works.
func (l *Load) prober(ctx context.Context) {
	every(ctx, l.cfg.ProbeEvery, func(int) bool {
		_ = l.do(ctx, KindProbe, func(ctx context.Context, kc *kms.Client) error {
			err := kc.CreateKey(ctx, l.enclave, &kms.CreateKeyRequest{Name: "pre-0"})
			if errors.Is(err, kms.ErrKeyExists) {
				return nil
			}
			if err == nil {
				return errors.New("the probe created a key that existed")
			}
			return err
		})
		return true
	})
}

// every calls fn(0), fn(1), ... once per tick of d until ctx ends or fn
// returns false.
func every(ctx context.Context, d time.Duration, fn func(n int) bool) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if !fn(n) {
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// do runs one request with failover and records its outcome (a request
// cut short by the end of the run is not recorded).
func (l *Load) do(ctx context.Context, k Kind, fn func(context.Context, *kms.Client) error) error {
	start := time.Now()
	tries, err := l.client.Do(ctx, k.IsRead(), fn)
	if err != nil && ctx.Err() != nil {
		return err
	}
	o := Outcome{Kind: k, Start: start, End: time.Now(), OK: err == nil, Tries: tries}
	if err != nil {
		o.Err = errText(err)
	}
	l.mu.Lock()
	l.outs = append(l.outs, o)
	l.mu.Unlock()
	return err
}

func (l *Load) createKey(ctx context.Context, name string, retry bool) error {
	err := l.do(ctx, KindCreate, func(ctx context.Context, kc *kms.Client) error {
		err := kc.CreateKey(ctx, l.enclave, &kms.CreateKeyRequest{Name: name})
		if retry && errors.Is(err, kms.ErrKeyExists) {
			return nil
		}
		return err
	})
	if err == nil {
		l.mu.Lock()
		l.keys = append(l.keys, name)
		l.mu.Unlock()
	}
	return err
}

// generate asks for a data key under key; first: it is the key's own
// ciphertext for the final check, else a candidate for the sample.
func (l *Load) generate(ctx context.Context, key string, first bool) (item, error) {
	var it item
	err := l.do(ctx, KindGenerate, func(ctx context.Context, kc *kms.Client) error {
		r, err := kc.GenerateKey(ctx, l.enclave, &kms.GenerateKeyRequest{Name: key, AssociatedData: []byte(key)})
		if err == nil {
			it = item{Key: key, Ciphertext: r[0].Ciphertext, Plaintext: r[0].Plaintext}
		}
		return err
	})
	if err == nil {
		l.keep(it, first)
	}
	return it, err
}

// keep records a ciphertext: a key's first one always, others by reservoir
// sampling, so the sample is uniform over the run.
func (l *Load) keep(it item, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if first {
		l.perKey = append(l.perKey, it)
		return
	}
	l.seen++
	if len(l.sample) < l.cfg.Keep {
		l.sample = append(l.sample, it)
	} else if j := mrand.IntN(l.seen); j < l.cfg.Keep {
		l.sample[j] = it
	}
}

func (l *Load) decrypt(ctx context.Context) {
	it := l.randomItem()
	_ = l.do(ctx, KindDecrypt, func(ctx context.Context, kc *kms.Client) error {
		r, err := kc.Decrypt(ctx, l.enclave, &kms.DecryptRequest{Name: it.Key, Ciphertext: it.Ciphertext, AssociatedData: []byte(it.Key)})
		if err == nil && string(r[0].Plaintext) != string(it.Plaintext) {
			return errors.New("decrypt answered another plaintext")
		}
		return err
	})
}

func (l *Load) randomKey() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keys[mrand.IntN(len(l.keys))]
}

func (l *Load) randomItem() item {
	l.mu.Lock()
	defer l.mu.Unlock()
	all := len(l.perKey) + len(l.sample)
	if i := mrand.IntN(all); i < len(l.perKey) {
		return l.perKey[i]
	} else {
		return l.sample[i-len(l.perKey)]
	}
}

func (l *Load) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.outs)
}

func (l *Load) setLimited(why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limited == "" {
		l.limited = why
	}
}

// Stop ends the traffic, waits for the requests in flight and returns the
// report with the check of every node (Check). Calling it again returns
// the same report.
func (l *Load) Stop(ctx context.Context) *Report {
	if l.report != nil {
		return l.report
	}
	l.stop()
	<-l.done
	l.report = l.build()
	l.report.Check = l.Check(ctx)
	return l.report
}

// preRunPrefix names the keys created before the run (pre-0, pre-1, ...):
// the data at rest the check tells apart from keys created during it.
const preRunPrefix = "pre-"
