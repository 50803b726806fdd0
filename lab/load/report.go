package load

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minio/kms-go/kms"
)

// SchemaVersion is the version of the JSON report.
const SchemaVersion = 1

// Report is what one load run saw. Times are seconds.
type Report struct {
	Schema  int       `json:"schema_version"`
	Enclave string    `json:"enclave"`
	Nodes   []string  `json:"nodes"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	Seconds float64   `json:"seconds"`
	// Limited says why the load stopped by itself ("" when stopped).
	Limited string `json:"limited,omitempty"`
	Tally
	LongestReadGap   Span    `json:"longest_read_gap"`
	ReadGapSeconds   float64 `json:"longest_read_gap_s"`
	WriteOutages     []Span  `json:"write_outages"`
	WriteUnavailable float64 `json:"write_unavailable_s"`
	KeysBefore       int     `json:"keys_before"`
	KeysDuring       int     `json:"keys_during"`
	Ciphertexts      int     `json:"ciphertexts_kept"`
	Check            *Check  `json:"check,omitempty"`
}

// build computes the report from the outcomes of the run (setup excluded).
func (l *Load) build() *Report {
	l.mu.Lock()
	defer l.mu.Unlock()
	var outs []Outcome
	for _, o := range l.outs {
		if !o.Start.Before(l.started) {
			outs = append(outs, o)
		}
	}
	gap := LongestReadGap(outs, l.started, l.ended)
	w := WriteOutages(outs, l.ended)
	return &Report{Schema: SchemaVersion, Enclave: l.enclave, Nodes: slices.Clone(l.client.hosts),
		Started: l.started, Ended: l.ended, Seconds: l.ended.Sub(l.started).Seconds(), Limited: l.limited,
		Tally: TallyOf(outs), LongestReadGap: gap, ReadGapSeconds: gap.Seconds(),
		WriteOutages: w, WriteUnavailable: Total(w).Seconds(),
		KeysBefore: l.pre, KeysDuring: len(l.keys) - l.pre, Ciphertexts: len(l.perKey) + len(l.sample)}
}

// Check is the final check: every node asked directly for every key the
// load created and every ciphertext it kept.
type Check struct {
	At    time.Time            `json:"at"`
	Nodes map[string]NodeCheck `json:"nodes"`
}

// NodeCheck is one node's part of the check.
type NodeCheck struct {
	Keys          int      `json:"keys"`
	MissingKeys   []string `json:"missing_keys,omitempty"`
	Decrypted     int      `json:"decrypted"`
	FailedDecrypt int      `json:"failed_decrypt"`
	// LostBefore counts, of the above, the keys and ciphertexts that
	// existed before the run (pre-N keys): the data at rest the HSM change
	// must never touch.
	LostBefore int `json:"lost_before"`
	// Errors are the first few failures, with the key's name.
	Errors []string `json:"errors,omitempty"`
}

// Lost counts the keys missing and the ciphertexts that failed, summed over nodes.
func (c *Check) Lost() int {
	n := 0
	for _, nc := range c.Nodes {
		n += len(nc.MissingKeys) + nc.FailedDecrypt
	}
	return n
}

// LostBefore counts what existed before the run and is lost, summed over nodes.
func (c *Check) LostBefore() int {
	n := 0
	for _, nc := range c.Nodes {
		n += nc.LostBefore
	}
	return n
}

// preRun is 1 for a key created before the run (named pre-N), else 0.
func preRun(key string) int {
	if strings.HasPrefix(key, preRunPrefix) {
		return 1
	}
	return 0
}

// Problems lists what the check found, one line per node, for a test's message.
func (c *Check) Problems() []string {
	var out []string
	for _, h := range sortedKeys(c.Nodes) {
		nc := c.Nodes[h]
		if len(nc.MissingKeys) > 0 || nc.FailedDecrypt > 0 {
			out = append(out, fmt.Sprintf("%s: %d keys missing %v, %d of %d ciphertexts failed: %s",
				h, len(nc.MissingKeys), nc.MissingKeys, nc.FailedDecrypt, nc.FailedDecrypt+nc.Decrypted, strings.Join(nc.Errors, "; ")))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Check asks every node directly (no failover) for the load's keys and
// decrypts every kept ciphertext on it. It can be run again later (after
// another restart).
func (l *Load) Check(ctx context.Context) *Check {
	l.mu.Lock()
	keys := slices.Clone(l.keys)
	items := append(slices.Clone(l.perKey), l.sample...)
	l.mu.Unlock()
	c := &Check{At: time.Now(), Nodes: map[string]NodeCheck{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, h := range l.client.hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc := l.checkNode(ctx, l.client.Node(h), keys, items)
			mu.Lock()
			c.Nodes[h] = nc
			mu.Unlock()
		}()
	}
	wg.Wait()
	return c
}

func (l *Load) checkNode(ctx context.Context, kc *kms.Client, keys []string, items []item) NodeCheck {
	var nc NodeCheck
	have, err := listKeys(ctx, kc, l.enclave)
	if err != nil {
		nc.MissingKeys = keys
		nc.Errors = append(nc.Errors, "list keys: "+errText(err))
	}
	for _, k := range keys {
		if err == nil && !have[k] {
			nc.MissingKeys = append(nc.MissingKeys, k)
			nc.LostBefore += preRun(k)
		}
	}
	nc.Keys = len(keys) - len(nc.MissingKeys)
	for _, it := range items {
		dctx, cancel := context.WithTimeout(ctx, l.cfg.TryTimeout)
		r, err := kc.Decrypt(dctx, l.enclave, &kms.DecryptRequest{Name: it.Key, Ciphertext: it.Ciphertext, AssociatedData: []byte(it.Key)})
		cancel()
		if err == nil && string(r[0].Plaintext) != string(it.Plaintext) {
			err = fmt.Errorf("another plaintext")
		}
		if err != nil {
			nc.FailedDecrypt++
			nc.LostBefore += preRun(it.Key)
			if len(nc.Errors) < 5 {
				nc.Errors = append(nc.Errors, it.Key+": "+errText(err))
			}
			continue
		}
		nc.Decrypted++
	}
	return nc
}

// listKeys reads every key name of the enclave on one node.
func listKeys(ctx context.Context, kc *kms.Client, enclave string) (map[string]bool, error) {
	have := map[string]bool{}
	req := &kms.ListRequest{Enclave: enclave}
	for {
		page, err := kc.ListKeys(ctx, req)
		if err != nil {
			return nil, err
		}
		for _, k := range page.Items {
			have[k.Name] = true
		}
		if page.ContinueAt == "" || len(page.Items) == 0 {
			return have, nil
		}
		req = &kms.ListRequest{Enclave: enclave, ContinueAt: page.ContinueAt}
	}
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for a person.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "load over %d nodes, %.1fs (enclave %s)%s\n", len(r.Nodes), r.Seconds, r.Enclave, paren(r.Limited))
	fmt.Fprintf(w, "%-12s %9s %9s\n", "KIND", "REQUESTS", "FAILED")
	for _, k := range []Kind{KindDecrypt, KindGenerate, KindCreate, KindProbe} {
		failed := 0
		for _, n := range r.Failures[k] {
			failed += n
		}
		fmt.Fprintf(w, "%-12s %9d %9d\n", k, r.Requests[k], failed)
		for _, e := range sortedKeys(r.Failures[k]) {
			fmt.Fprintf(w, "  %6d x %s\n", r.Failures[k][e], e)
		}
	}
	fmt.Fprintf(w, "failed reads (after failover): %d; reads served by a second node: %d\n", r.FailedReads, r.FailedOver)
	fmt.Fprintf(w, "longest interval without a successful read: %.3fs\n", r.ReadGapSeconds)
	fmt.Fprintf(w, "writes refused: %.3fs in %d outages\n", r.WriteUnavailable, len(r.WriteOutages))
	fmt.Fprintf(w, "keys: %d before, %d during the run; ciphertexts kept: %d\n", r.KeysBefore, r.KeysDuring, r.Ciphertexts)
	if r.Check != nil {
		fmt.Fprintf(w, "check: %d keys or ciphertexts lost over %d nodes\n", r.Check.Lost(), len(r.Check.Nodes))
		for _, p := range r.Check.Problems() {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
