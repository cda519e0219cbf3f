package actionio

import (
	"fmt"
	"strings"
)

// ParseOutputFile reads the text of a GITHUB_OUTPUT file as the runner does: `name=value` lines, and
// `name<<DELIMITER` lines whose value is every line after them up to a line that is exactly DELIMITER. A value
// keeps the line breaks it was written with, except the one before the delimiter. Lines may end in LF or CRLF
// (go-githubactions writes CRLF on Windows); empty lines between outputs are skipped, and a name given twice
// keeps its last value, as the runner keeps it. Errors give the 1-based line.
func ParseOutputFile(text string) (map[string]string, error) {
	lines := splitOutputLines(text)
	out := map[string]string{}
	for i := 0; i < len(lines); i++ {
		l := lines[i].text
		if l == "" {
			continue
		}
		eq, heredoc := strings.Index(l, "="), strings.Index(l, "<<")
		switch {
		case eq >= 0 && (heredoc < 0 || eq < heredoc):
			if eq == 0 {
				return nil, fmt.Errorf("line %d: %q has no name before =", i+1, l)
			}
			out[l[:eq]] = l[eq+1:]
		case heredoc >= 0:
			name, delim := l[:heredoc], l[heredoc+2:]
			if name == "" || delim == "" {
				return nil, fmt.Errorf("line %d: %q wants a name before << and a delimiter after it", i+1, l)
			}
			end := i + 1
			for end < len(lines) && lines[end].text != delim {
				end++
			}
			if end == len(lines) {
				return nil, fmt.Errorf("line %d: output %q: no line %q ends its value", i+1, name, delim)
			}
			out[name] = ""
			if end > i+1 {
				out[name] = text[lines[i+1].start:lines[end-1].end]
			}
			i = end
		default:
			return nil, fmt.Errorf("line %d: %q is neither name=value nor name<<DELIMITER", i+1, l)
		}
	}
	return out, nil
}

// outputLine is one line of an output file: its text without the line break, and where that text sits.
type outputLine struct {
	text       string
	start, end int
}

// splitOutputLines splits at LF and CRLF. The text after the last line break is a line only when not empty.
func splitOutputLines(text string) []outputLine {
	var lines []outputLine
	for start := 0; start < len(text); {
		end, next := len(text), len(text)
		if i := strings.IndexByte(text[start:], '\n'); i >= 0 {
			end, next = start+i, start+i+1
			if end > start && text[end-1] == '\r' {
				end--
			}
		}
		lines = append(lines, outputLine{text: text[start:end], start: start, end: end})
		start = next
	}
	return lines
}
