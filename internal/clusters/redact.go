package clusters

import "strings"

// redact cleans the text of an error from a decoder or a library before it goes into a
// Cluster.Err. Decoders quote the input they choke on ("no kind \"<value>\" is registered"),
// and the input here is a kubeconfig, so the text could carry a token. Quoted parts and long
// runs of token or base64 characters are replaced; what is left (line numbers, field names,
// "did not find expected key") is enough to find the mistake. Such errors are therefore
// summarised, not wrapped with %w: a wrapped error's text would bring the original back.
func redact(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); {
		c := msg[i]
		if isQuote(msg, i) {
			end := strings.IndexByte(msg[i+1:], c)
			if end < 0 {
				// An unterminated quote: everything after it may be input.
				b.WriteString("[redacted]")
				break
			}
			b.WriteByte(c)
			b.WriteString("…")
			b.WriteByte(c)
			i += end + 2
			continue
		}
		j := i
		for j < len(msg) && isTokenByte(msg[j]) {
			j++
		}
		switch {
		case j-i >= minSecretRun:
			b.WriteString("[redacted]")
		case j > i:
			b.WriteString(msg[i:j])
		default:
			b.WriteByte(c)
			j = i + 1
		}
		i = j
	}
	return b.String()
}

// minSecretRun is the shortest unquoted run of token characters treated as a possible secret:
// bearer tokens and base64 keys are far longer, and the field names, paths and line numbers
// of a useful message are shorter.
const minSecretRun = 32

// isQuote reports whether msg[i] opens a quoted part. An apostrophe after a letter is English
// ("couldn't"), not a quote.
func isQuote(msg string, i int) bool {
	switch msg[i] {
	case '"', '`':
		return true
	case '\'':
		return i == 0 || !isLetter(msg[i-1])
	}
	return false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isTokenByte covers base64, base64url and JWT characters.
func isTokenByte(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || strings.IndexByte("+/=_-.~", c) >= 0
}
