package cli

import (
	"io"
	"strings"
	"unicode/utf8"
)

// writeTable prints rows under headers in the light box style of
// Infisical's CLI:
//
//	┌─────────────┬──────────────┐
//	│ SECRET NAME │ SECRET VALUE │
//	├─────────────┼──────────────┤
//	│ A           │ 1            │
//	└─────────────┴──────────────┘
//
// A cell holding several lines spans several table lines.
func writeTable(w io.Writer, headers []string, rows [][]string) error {
	widths := make([]int, len(headers))
	measure := func(row []string) {
		for i := range widths {
			if i < len(row) {
				for _, line := range strings.Split(row[i], "\n") {
					if n := utf8.RuneCountInString(line); n > widths[i] {
						widths[i] = n
					}
				}
			}
		}
	}
	measure(headers)
	for _, r := range rows {
		measure(r)
	}
	var b strings.Builder
	rule := func(left, mid, right string) {
		b.WriteString(left)
		for i, wd := range widths {
			if i > 0 {
				b.WriteString(mid)
			}
			b.WriteString(strings.Repeat("─", wd+2))
		}
		b.WriteString(right)
		b.WriteByte('\n')
	}
	line := func(row []string) {
		cells := make([][]string, len(widths))
		height := 1
		for i := range widths {
			v := ""
			if i < len(row) {
				v = row[i]
			}
			cells[i] = strings.Split(v, "\n")
			if len(cells[i]) > height {
				height = len(cells[i])
			}
		}
		for l := 0; l < height; l++ {
			b.WriteString("│")
			for i, wd := range widths {
				v := ""
				if l < len(cells[i]) {
					v = cells[i][l]
				}
				b.WriteString(" ")
				b.WriteString(v)
				b.WriteString(strings.Repeat(" ", wd-utf8.RuneCountInString(v)))
				b.WriteString(" │")
			}
			b.WriteByte('\n')
		}
	}
	rule("┌", "┬", "┐")
	line(headers)
	rule("├", "┼", "┤")
	for _, r := range rows {
		line(r)
	}
	rule("└", "┴", "┘")
	_, err := io.WriteString(w, b.String())
	return err
}
