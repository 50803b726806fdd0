package inventory

import (
	"net"
	"net/url"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// rule checks one value and returns what is wrong with it, or "".
type rule func(v string) string

var (
	reNodeName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	reHostLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	reUnit      = regexp.MustCompile(`^[A-Za-z0-9@._-]+$`)
	reNodePath  = regexp.MustCompile(`^[A-Za-z0-9._/@+,:=-]+$`)
	reLogin     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$`)
	reMount     = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)
	reNamespace = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/?$`)
	reKey       = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	reToken     = regexp.MustCompile(`^[A-Za-z0-9_.:@/+=-]+$`)
	reEnv       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func oneOf(allowed ...string) rule {
	return func(v string) string {
		for _, a := range allowed {
			if v == a {
				return ""
			}
		}
		return "must be one of " + strings.Join(allowed, ", ")
	}
}

func nodeName(v string) string {
	if !reNodeName.MatchString(v) {
		return "must be 1..63 letters, digits, '.', '_' or '-', starting with a letter or digit"
	}
	return ""
}

// hostName accepts an IP address or a DNS name, nothing a shell would read.
func hostName(v string) string {
	if net.ParseIP(v) != nil {
		return ""
	}
	labels := strings.Split(strings.TrimSuffix(v, "."), ".")
	for _, l := range labels {
		if !reHostLabel.MatchString(l) {
			return "must be an IP address or a host name"
		}
	}
	if len(v) > 253 {
		return "must be an IP address or a host name"
	}
	return ""
}

func unitName(v string) string {
	if !reUnit.MatchString(v) || strings.HasPrefix(v, "-") {
		return "must match ^[A-Za-z0-9@._-]+$ and not start with '-'"
	}
	return ""
}

// nodePath accepts absolute, clean paths that no shell would interpret.
func nodePath(v string) string {
	switch {
	case !strings.HasPrefix(v, "/"):
		return "must be an absolute path"
	case !reNodePath.MatchString(v):
		return "must contain only letters, digits and ._/@+,:=- (no spaces or shell characters)"
	case slices.Contains(strings.Split(v, "/"), ".."):
		return "must not contain '..'"
	case path.Clean(v) != v:
		return "must be a clean path (no '//', '/./' or trailing '/'): " + path.Clean(v)
	}
	return ""
}

// localPath accepts any operator-side path without control characters.
func localPath(v string) string {
	if v == "" || strings.ContainsAny(v, "\x00\n\r") {
		return "must be a non-empty path without control characters"
	}
	return ""
}

func httpsURL(v string) string {
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "":
		return "must be an https:// URL"
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "must not carry credentials, a query or a fragment"
	case hostName(u.Hostname()) != "":
		return "must name an IP address or a host name"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "port must be 1..65535"
		}
	}
	return ""
}

func loginName(v string) string {
	if !reLogin.MatchString(v) {
		return "must be a login name (letters, digits, '_', '.', '-')"
	}
	return ""
}

// proxyJump accepts [user@]host[:port], or several, comma-separated, for a
// chain of bastions (as OpenSSH's ProxyJump: the first is dialled first).
func proxyJump(v string) string {
	for _, hop := range strings.Split(v, ",") {
		if msg := proxyJumpHop(hop); msg != "" {
			return msg
		}
	}
	return ""
}

func proxyJumpHop(v string) string {
	hostPort := v
	if u, rest, ok := strings.Cut(v, "@"); ok {
		if loginName(u) != "" {
			return "must be [user@]host[:port] with a valid user"
		}
		hostPort = rest
	}
	host, port := hostPort, ""
	if h, p, err := net.SplitHostPort(hostPort); err == nil {
		host, port = h, p
	}
	if hostName(host) != "" {
		return "must be [user@]host[:port]"
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "port must be 1..65535"
		}
	}
	return ""
}

func mountPath(v string) string {
	if !reMount.MatchString(v) || slices.Contains(strings.Split(v, "/"), "..") {
		return "must be a Vault mount path such as transit or kms/transit (no leading or trailing '/')"
	}
	return ""
}

func namespace(v string) string {
	if !reNamespace.MatchString(v) || slices.Contains(strings.Split(v, "/"), "..") {
		return "must be a Vault namespace such as ns1 or team/ns1"
	}
	return ""
}

func keyName(v string) string {
	if !reKey.MatchString(v) || v == "." || v == ".." {
		return "must be a Vault key name (letters, digits, '_', '.', '-')"
	}
	return ""
}

func token(v string) string {
	if !reToken.MatchString(v) {
		return "must be non-empty without spaces, quotes or shell characters"
	}
	return ""
}

func envName(v string) string {
	if !reEnv.MatchString(v) {
		return "must be an environment variable name"
	}
	return ""
}

// expandHome replaces a leading "~" or "~/" with the operator's home.
func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~"))
}

// currentUser is ssh's default login name: the operator's own.
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "root"
}
