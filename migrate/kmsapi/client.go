package kmsapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Content types of the key manager API.
const (
	contentTypeBinary = "application/octet-stream"
	contentTypeJSON   = "application/json"
	acceptAny         = "application/*" // the SDK accepts binary and JSON
)

// API paths, from the SDK's public constants.
const (
	pathVersion = "/version"
	pathLive    = "/v1/health/live"
	pathReady   = "/v1/health/ready"
	pathKMS     = "/v1/kms/"
)

// Limits that keep a misbehaving node from stalling or flooding kmsctl.
const (
	defaultTimeout  = 10 * time.Second
	maxResponseBody = 4 << 20
)

// DialFunc opens a TCP connection to addr. kmsctl passes remote.Node.DialTCP
// so the API on a node's loopback is reached through the SSH connection.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Options configure a Client.
type Options struct {
	// APIKey (k1:...) becomes the TLS client certificate, as with the minkms
	// CLI. Empty means no client certificate: version and health still work,
	// ClusterStatus does not.
	APIKey string
	// RootCAs verify the node's certificate; nil means the system roots.
	RootCAs *x509.CertPool
	// ServerName overrides the name verified in the node's certificate
	// (default: the host of the API URL).
	ServerName string
	// Timeout bounds each request (default 10s).
	Timeout time.Duration
}

// Client talks to one key manager node. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	http   *http.Client
	hasKey bool
}

// New returns a client for the node API at apiURL (https://host:port; a bare
// host:port means https). dial may be nil for a direct connection. The TLS
// certificate of the node is always verified.
func New(dial DialFunc, apiURL string, opts Options) (*Client, error) {
	base, err := parseAPIURL(apiURL)
	if err != nil {
		return nil, err
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: opts.RootCAs, ServerName: opts.ServerName}
	if opts.APIKey != "" {
		cert, err := clientCertificate(opts.APIKey)
		if err != nil {
			return nil, err
		}
		tlsConf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}
	if dial == nil {
		dial = (&net.Dialer{Timeout: defaultTimeout, KeepAlive: 30 * time.Second}).DialContext
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	tr := &http.Transport{
		DialContext:         dial,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: timeout,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Client{base: base, http: &http.Client{Transport: tr, Timeout: timeout}, hasKey: opts.APIKey != ""}, nil
}

// parseAPIURL accepts https://host:port[/prefix] or host:port.
func parseAPIURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("kmsapi: empty API URL")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		if u, err = url.Parse("https://" + s); err != nil || u.Host == "" {
			return nil, fmt.Errorf("kmsapi: invalid API URL %q", s)
		}
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("kmsapi: API URL %q: the key manager API is HTTPS only", s)
	}
	return u, nil
}

// URL returns the API URL the client talks to, for messages.
func (c *Client) URL() string { return c.base.String() }

// Close releases idle connections (and so the SSH channels behind them).
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Version returns the node's version string, e.g. "2025-10-01T00-00-00Z".
func (c *Client) Version(ctx context.Context) (string, error) {
	body, ct, err := c.do(ctx, http.MethodGet, pathVersion, nil)
	if err != nil {
		return "", err
	}
	if ct == contentTypeBinary {
		v, err := decodeStringField(body, fieldVersionVersion)
		if err != nil {
			return "", fmt.Errorf("kmsapi: GET %s: %w", pathVersion, err)
		}
		return v, nil
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("kmsapi: GET %s: decoding JSON: %w", pathVersion, err)
	}
	return v.Version, nil
}

// Live returns nil when the node process answers at all (GET
// /v1/health/live); an *HTTPError carries any other status.
func (c *Client) Live(ctx context.Context) error {
	_, _, err := c.do(ctx, http.MethodGet, pathLive, nil)
	return err
}

// Ready returns nil when the node can serve requests (GET
// /v1/health/ready). A node that is sealed or without a quorum answers 503,
// returned as *HTTPError{Status: 503}.
func (c *Client) Ready(ctx context.Context) error {
	_, _, err := c.do(ctx, http.MethodGet, pathReady, nil)
	return err
}

// ClusterStatus returns the cluster as the node sees it. It needs an API key
// whose identity has admin rights on the node; otherwise the node answers
// 403, returned as *HTTPError.
func (c *Client) ClusterStatus(ctx context.Context) (*ClusterStatus, error) {
	if !c.hasKey {
		return nil, errors.New("kmsapi: ClusterStatus needs an API key (MINIO_KMS_API_KEY)")
	}
	req, err := AppendFrame(nil, CmdClusterStatus, nil)
	if err != nil {
		return nil, err
	}
	body, _, err := c.do(ctx, http.MethodPost, pathKMS, req)
	if err != nil {
		return nil, err
	}
	return DecodeClusterStatusResponse(body)
}

// DecodeClusterStatusResponse decodes the framed body of a ClusterStatus
// answer. Like the SDK it takes the first frame; every frame must carry the
// ClusterStatus command ID.
func DecodeClusterStatusResponse(body []byte) (*ClusterStatus, error) {
	frames, err := DecodeFrames(body, CmdClusterStatus)
	if err != nil {
		return nil, err
	}
	var s ClusterStatus
	if err := s.UnmarshalBinary(frames[0].Payload); err != nil {
		return nil, fmt.Errorf("kmsapi: ClusterStatus response: %w", err)
	}
	return &s, nil
}

// do sends one request and returns the body of a 200 answer and its media
// type. Any other status is an *HTTPError; transport failures are wrapped
// with the method and URL.
func (c *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, string, error) {
	u := c.base.JoinPath(path)
	if strings.HasSuffix(path, "/") && !strings.HasSuffix(u.Path, "/") {
		u.Path += "/" // the admin endpoint is /v1/kms/ with its slash
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, "", fmt.Errorf("kmsapi: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", acceptAny)
	if body != nil {
		req.Header.Set("Content-Type", contentTypeBinary)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("kmsapi: %s %s: %w", method, c.base.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", readHTTPError(resp, method+" "+path)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return nil, "", fmt.Errorf("kmsapi: %s %s: reading response: %w", method, path, err)
	}
	if len(data) > maxResponseBody {
		return nil, "", fmt.Errorf("kmsapi: %s %s: response larger than %d bytes", method, path, maxResponseBody)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return data, ct, nil
}
