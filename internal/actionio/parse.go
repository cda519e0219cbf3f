package actionio

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// parseBool accepts the YAML 1.2 core booleans, as @actions/core's getBooleanInput does.
func parseBool(text string) (bool, error) {
	switch text {
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	return false, fmt.Errorf("is not a boolean (want true or false)")
}

// ParseDuration parses Go's durations (90s, 1h30m) extended with days (d) and weeks (w): 30d, 2w, 1d12h.
func ParseDuration(text string) (time.Duration, error) {
	const want = "is not a duration (want a number with a unit: s, m, h, d or w, e.g. 30d or 12h)"
	var total time.Duration
	rest := text
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9') {
			i++
		}
		if i == 0 || i == len(rest) || (rest[i] != 'd' && rest[i] != 'w') {
			break
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, errors.New(want)
		}
		unit := 24 * time.Hour
		if rest[i] == 'w' {
			unit *= 7
		}
		if n > int64(math.MaxInt64/unit) {
			return 0, fmt.Errorf("is too long a duration")
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if rest == "" && text != "" {
		return total, nil
	}
	d, err := time.ParseDuration(rest)
	if err != nil || d < 0 {
		return 0, errors.New(want)
	}
	return total + d, nil
}

var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseBytes parses a byte size: a number with an optional unit, decimal (KB, MB, GB, TB: powers of 1000)
// or binary (KiB, MiB, GiB, TiB: powers of 1024), any case. 500MB is 500,000,000 bytes.
func ParseBytes(text string) (int64, error) {
	const want = "is not a size (want a number with an optional unit: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB, e.g. 500MB)"
	t := strings.TrimSpace(text)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := byteUnits[unit]
	if !ok || num == "" {
		return 0, errors.New(want)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, errors.New(want)
	}
	if f*mult > math.MaxInt64 {
		return 0, fmt.Errorf("is too large a size")
	}
	return int64(f * mult), nil
}

// FormatBytes prints a size the way ParseBytes reads it back, in the decimal units registries and docker use.
func FormatBytes(n int64) string {
	switch {
	case n >= 1e9:
		return strconv.FormatFloat(float64(n)/1e9, 'f', 2, 64) + " GB"
	case n >= 1e6:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	case n >= 1e3:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + " kB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// splitList splits on newlines and, unless linesOnly, on commas outside double quotes (as docker's actions do).
// Items are trimmed; empty items are dropped.
func splitList(text string, linesOnly bool) ([]string, error) {
	var items []string
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		fields := []string{line}
		if !linesOnly && strings.Contains(line, ",") {
			r := csv.NewReader(strings.NewReader(line))
			r.LazyQuotes = true
			r.TrimLeadingSpace = true
			var err error
			if fields, err = r.Read(); err != nil {
				return nil, fmt.Errorf("line %q cannot be split into items: %v", line, err)
			}
		}
		for _, f := range fields {
			if f = strings.TrimSpace(f); f != "" {
				items = append(items, f)
			}
		}
	}
	return items, nil
}

// parseMap reads key=value pairs split like a list. A key may appear once.
func parseMap(text string, linesOnly bool) (map[string]string, error) {
	items, err := splitList(text, linesOnly)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(items))
	for _, item := range items {
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("item %q is not a key=value pair", item)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("key %q is given twice", k)
		}
		m[k] = strings.TrimSpace(v)
	}
	return m, nil
}

func join(values []string) string { return strings.Join(values, ", ") }
