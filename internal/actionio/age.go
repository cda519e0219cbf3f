package actionio

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ageUnits are the units of dataaxiom/ghcr-cleanup-action's older-than, singular or plural. Its README
// ("older-than": "The syntax supports the following units in the plural and singular forms: seconds, minutes,
// hours, days, weeks, months and years") hands the text to human-interval (src/config.ts), whose README says a
// month "assumes 30 days" and a year "assumes 365 days".
var ageUnits = map[string]time.Duration{
	"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour,
	"week": 7 * 24 * time.Hour, "month": 30 * 24 * time.Hour, "year": 365 * 24 * time.Hour,
}

// ageWords are the numbers human-interval reads as words.
var ageWords = map[string]float64{"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}

const ageWant = `is not an age (want e.g. 30d, 12h or 1d12h, or as dataaxiom/ghcr-cleanup-action reads it: 30 days, 2 weeks, ` +
	`1 month, 3 days and 4 hours; units: seconds, minutes, hours, days, weeks, months (30 days), years (365 days))`

// ParseAge reads an age (the cleanup action's older-than and untagged-older-than, and scribe.yaml's): this
// project's durations (30d, 2w, 12h, 1d12h) and the
// wording of dataaxiom/ghcr-cleanup-action, whose users bring it: "30 days", "2 weeks", "1 month", "1.5 hours",
// "3 days and 4 hours" or "3 days, 4 hours", a unit alone for one of it ("week"), and one to ten as words.
// Without this, "30 days" in a migrated workflow would be an error at best.
func ParseAge(text string) (time.Duration, error) {
	if d, err := ParseDuration(text); err == nil {
		return d, nil
	}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return unicode.IsSpace(r) || r == ',' })
	var total float64 // nanoseconds
	var n *float64    // a number waiting for its unit
	for _, w := range words {
		if w == "and" {
			continue
		}
		num, unit := splitNumber(w)
		if num != "" {
			if n != nil {
				return 0, errors.New(ageWant)
			}
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, errors.New(ageWant)
			}
			n = &f
		} else if f, ok := ageWords[unit]; ok {
			if n != nil {
				return 0, errors.New(ageWant)
			}
			n, unit = &f, ""
		}
		if unit == "" {
			continue
		}
		d, ok := ageUnits[strings.TrimSuffix(unit, "s")]
		if !ok {
			return 0, errors.New(ageWant)
		}
		count := 1.0
		if n != nil {
			count = *n
		}
		total += count * float64(d)
		n = nil
	}
	if n != nil || len(words) == 0 {
		return 0, errors.New(ageWant)
	}
	if total >= math.MaxInt64 {
		return 0, errors.New("is too long an age")
	}
	return time.Duration(total), nil
}

// splitNumber splits "30days" into "30" and "days"; a word without a leading number is all unit.
func splitNumber(w string) (num, unit string) {
	i := strings.IndexFunc(w, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		return w, ""
	}
	return w[:i], w[i:]
}
