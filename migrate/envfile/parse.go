package envfile

import (
	"bytes"
	"unicode/utf8"
)

// envAssignment is one assignment as systemd's EnvironmentFile= parser
// reads it (systemd's env-file.c), with where it sits in the file.
type envAssignment struct {
	// key is the name as read, trailing white space removed. Lines systemd
	// reads but then ignores keep their full key, e.g. "export NAME".
	key   string
	value string
	// start is the first byte of the assignment's first line (leading
	// white space included); valueStart the byte after "="; end the byte
	// after its terminating line end (or the end of the file).
	start, valueStart, end int
	// line is the 1-based line of the key.
	line int
	// unclosed: the file ended inside a quoted value, so the value runs
	// to the end of the file.
	unclosed bool
}

type envState int

const (
	envPreKey envState = iota
	envKey
	envPreValue
	envValue
	envValueEscape
	envSingleQuote
	envDoubleQuote
	envDoubleQuoteEscape
	envComment
	envCommentEscape
)

// envParser mirrors systemd's state machine byte for byte, so kmsctl and the
// node agree on what the file sets. Comment lines ending in a backslash do
// not continue (systemd 254 and later); for removal that is the safe
// reading, since it treats the following line as an assignment.
type envParser struct {
	b               []byte
	out             []envAssignment
	state           envState
	key, value      []byte
	keyStart        int
	valueStart      int
	lastKeySpace    int
	lastValueSpace  int
	keyLine, lineNo int
}

// parseEnvFile returns every assignment systemd reads from b, in order,
// including those it then drops for an invalid name. Reading stops at a NUL
// byte, as systemd's does.
func parseEnvFile(b []byte) []envAssignment {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	p := &envParser{b: b, lineNo: 1, lastKeySpace: -1, lastValueSpace: -1}
	for i, c := range b {
		p.step(i, c)
		if c == '\n' {
			p.lineNo++
		}
	}
	switch p.state {
	case envValue:
		p.chompValue()
		p.push(len(b), false)
	case envPreValue, envValueEscape:
		p.push(len(b), false)
	case envSingleQuote, envDoubleQuote, envDoubleQuoteEscape:
		p.push(len(b), true)
	}
	return p.out
}

func isEnvNewline(c byte) bool { return c == '\n' || c == '\r' }
func isEnvSpace(c byte) bool   { return c == ' ' || c == '\t' || isEnvNewline(c) }

func (p *envParser) step(i int, c byte) {
	switch p.state {
	case envPreKey:
		p.preKey(i, c)
	case envKey:
		p.inKey(i, c)
	case envPreValue:
		p.preValue(i, c)
	case envValue:
		p.inValue(i, c)
	case envValueEscape:
		p.state = envValue
		if !isEnvNewline(c) {
			p.value = append(p.value, c)
		}
	case envSingleQuote:
		p.singleQuote(c)
	case envDoubleQuote:
		p.doubleQuote(c)
	case envDoubleQuoteEscape:
		p.doubleQuoteEscape(c)
	case envComment:
		switch {
		case c == '\\':
			p.state = envCommentEscape
		case isEnvNewline(c):
			p.state = envPreKey
		}
	case envCommentEscape:
		p.state = envComment
		if isEnvNewline(c) {
			p.state = envPreKey
		}
	}
}

func (p *envParser) preKey(i int, c byte) {
	switch {
	case c == '#' || c == ';':
		p.state = envComment
	case !isEnvSpace(c):
		p.state = envKey
		p.key, p.value = append(p.key[:0], c), nil
		p.keyStart, p.keyLine, p.lastKeySpace = i, p.lineNo, -1
	}
}

func (p *envParser) inKey(i int, c byte) {
	switch {
	case isEnvNewline(c):
		p.state = envPreKey
	case c == '=':
		p.state, p.lastValueSpace, p.valueStart = envPreValue, -1, i+1
	default:
		if !isEnvSpace(c) {
			p.lastKeySpace = -1
		} else if p.lastKeySpace < 0 {
			p.lastKeySpace = len(p.key)
		}
		p.key = append(p.key, c)
	}
}

func (p *envParser) preValue(i int, c byte) {
	switch {
	case isEnvNewline(c):
		p.push(i, false)
	case c == '\'':
		p.state = envSingleQuote
	case c == '"':
		p.state = envDoubleQuote
	case c == '\\':
		p.state = envValueEscape
	case !isEnvSpace(c):
		p.state = envValue
		p.value = append(p.value, c)
	}
}

func (p *envParser) inValue(i int, c byte) {
	switch {
	case isEnvNewline(c):
		p.chompValue()
		p.push(i, false)
	case c == '\\':
		p.state, p.lastValueSpace = envValueEscape, -1
	default:
		if !isEnvSpace(c) {
			p.lastValueSpace = -1
		} else if p.lastValueSpace < 0 {
			p.lastValueSpace = len(p.value)
		}
		p.value = append(p.value, c)
	}
}

// chompValue drops the trailing white space of an unquoted value.
func (p *envParser) chompValue() {
	if p.lastValueSpace >= 0 {
		p.value = p.value[:p.lastValueSpace]
	}
}

func (p *envParser) singleQuote(c byte) {
	if c == '\'' {
		p.state = envPreValue
		return
	}
	p.value = append(p.value, c)
}

func (p *envParser) doubleQuote(c byte) {
	switch c {
	case '"':
		p.state = envPreValue
	case '\\':
		p.state = envDoubleQuoteEscape
	default:
		p.value = append(p.value, c)
	}
}

// doubleQuoteEscape unescapes the characters a shell needs escaped, keeps
// the backslash before others, and eats an escaped newline.
func (p *envParser) doubleQuoteEscape(c byte) {
	p.state = envDoubleQuote
	switch {
	case c == '"' || c == '\\' || c == '`' || c == '$':
		p.value = append(p.value, c)
	case c != '\n':
		p.value = append(p.value, '\\', c)
	}
}

// push records the assignment that ends with the line end at i (or at the
// end of the file when i == len(b)).
func (p *envParser) push(i int, unclosed bool) {
	key := p.key
	if p.lastKeySpace >= 0 {
		key = key[:p.lastKeySpace]
	}
	end := min(i+1, len(p.b))
	if i+1 < len(p.b) && p.b[i] == '\r' && p.b[i+1] == '\n' {
		end = i + 2
	}
	p.out = append(p.out, envAssignment{
		key: string(key), value: string(p.value),
		start: envLineStart(p.b, p.keyStart), valueStart: p.valueStart, end: end,
		line: p.keyLine, unclosed: unclosed,
	})
	p.state, p.key, p.value = envPreKey, nil, nil
}

// envLineStart is the offset just after the line end before offset i.
func envLineStart(b []byte, i int) int {
	for i > 0 && !isEnvNewline(b[i-1]) {
		i--
	}
	return i
}

// valid reports whether systemd keeps the assignment: its name must be a
// shell variable name (so "export NAME=..." is read, then dropped).
func (a envAssignment) valid() bool {
	if a.key == "" || (a.key[0] >= '0' && a.key[0] <= '9') {
		return false
	}
	for i := 0; i < len(a.key); i++ {
		c := a.key[i]
		if c != '_' && (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// utf8OK mirrors systemd's check that makes it refuse the whole file.
func (a envAssignment) utf8OK() bool {
	return utf8.ValidString(a.key) && utf8.ValidString(a.value)
}
