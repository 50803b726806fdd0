package remote

import "strings"

// ShellQuote joins args into one POSIX shell command line in which every
// argument stays exactly one word. SSH only carries a command string, which
// the login shell re-parses; quoting each argv word here is the single place
// where that parsing is neutralised, so no command is ever built by pasting
// strings. Words made only of characters with no meaning to a shell are left
// bare; everything else is single-quoted, with ' written as '\”.
// Arguments cannot contain NUL bytes (no shell can pass them); Run rejects them.
func ShellQuote(args ...string) string {
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = quoteWord(a)
	}
	return strings.Join(words, " ")
}

// quoteWord quotes one argument.
func quoteWord(s string) string {
	if s == "" {
		return "''"
	}
	if isBareWord(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isBareWord reports whether s needs no quoting. '=' and '~' are excluded on
// purpose: a leading NAME=value word is an assignment and a leading ~ expands.
func isBareWord(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("_@%+:,./-", r):
		default:
			return false
		}
	}
	return true
}
