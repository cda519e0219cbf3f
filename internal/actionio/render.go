package actionio

import (
	"strings"
	"unicode/utf8"
)

// RenderText turns a step summary's markdown into text for a terminal: headings underlined, tables aligned
// in columns, emphasis and code marks dropped. It reads only what the actions write: headings, paragraphs,
// lists and pipe tables.
func RenderText(markdown string) string {
	var b strings.Builder
	lines := strings.Split(strings.TrimRight(markdown, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "#"):
			title := plain(strings.TrimSpace(strings.TrimLeft(line, "#")))
			b.WriteString(title + "\n" + strings.Repeat("=", utf8.RuneCountInString(title)) + "\n")
		case strings.HasPrefix(strings.TrimSpace(line), "|"):
			j := i
			for j < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[j]), "|") {
				j++
			}
			writeTable(&b, lines[i:j])
			i = j - 1
		default:
			b.WriteString(plain(line) + "\n")
		}
	}
	return b.String()
}

func writeTable(b *strings.Builder, rows []string) {
	var cells [][]string
	for _, r := range rows {
		r = strings.TrimSpace(r)
		parts := strings.Split(strings.Trim(r, "|"), "|")
		if isRule(parts) {
			continue
		}
		var row []string
		for _, p := range parts {
			row = append(row, plain(strings.TrimSpace(p)))
		}
		cells = append(cells, row)
	}
	var width []int
	for _, row := range cells {
		for c, cell := range row {
			if c >= len(width) {
				width = append(width, 0)
			}
			width[c] = max(width[c], utf8.RuneCountInString(cell))
		}
	}
	for n, row := range cells {
		for c, cell := range row {
			if c > 0 {
				b.WriteString("  ")
			}
			b.WriteString(cell)
			if c < len(row)-1 {
				b.WriteString(strings.Repeat(" ", width[c]-utf8.RuneCountInString(cell)))
			}
		}
		b.WriteString("\n")
		if n == 0 && len(cells) > 1 {
			total := 0
			for _, w := range width {
				total += w + 2
			}
			b.WriteString(strings.Repeat("-", total-2) + "\n")
		}
	}
}

func isRule(parts []string) bool {
	for _, p := range parts {
		if strings.Trim(strings.TrimSpace(p), ":-") != "" {
			return false
		}
	}
	return true
}

// plain drops markdown emphasis and code marks and turns [text](url) into "text (url)".
func plain(s string) string {
	s = strings.NewReplacer("**", "", "`", "", "<br>", " ").Replace(s)
	for {
		open := strings.Index(s, "](")
		if open < 0 {
			return s
		}
		start := strings.LastIndex(s[:open], "[")
		end := strings.Index(s[open:], ")")
		if start < 0 || end < 0 {
			return s
		}
		s = s[:start] + s[start+1:open] + " (" + s[open+2:open+end] + ")" + s[open+end+1:]
	}
}
