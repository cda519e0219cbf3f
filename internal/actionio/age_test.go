package actionio

import (
	"testing"
	"time"
)

// older-than reads this project's durations and dataaxiom/ghcr-cleanup-action's wording (human-interval's
// units, singular or plural; a month is 30 days, a year 365).
func TestParseAge(t *testing.T) {
	const day = 24 * time.Hour
	for _, tt := range []struct {
		text string
		want time.Duration
	}{
		{"30d", 30 * day},
		{"2w", 14 * day},
		{"1d12h", 36 * time.Hour},
		{"12h", 12 * time.Hour},
		{"30 days", 30 * day},
		{"2 weeks", 14 * day},
		{"1 month", 30 * day},
		{"6 months", 180 * day},
		{"1 year", 365 * day},
		{"1 day", day},
		{"50 seconds", 50 * time.Second},
		{"15 minutes", 15 * time.Minute},
		{"week", 7 * day},
		{"1.5 hours", 90 * time.Minute},
		{"3 days and 4 hours", 3*day + 4*time.Hour},
		{"3 days, 4 hours and 36 seconds", 3*day + 4*time.Hour + 36*time.Second},
		{"30days", 30 * day},
		{"three days", 3 * day},
		{"2 Weeks", 14 * day},
		{"  30 days  ", 30 * day},
	} {
		got, err := ParseAge(tt.text)
		if err != nil || got != tt.want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", tt.text, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "30", "30 dayz", "days 3", "-2 days", "1 fortnight", "soon", "3 3 days", "1..5 days", "99999999 years"} {
		if got, err := ParseAge(bad); err == nil {
			t.Errorf("ParseAge(%q) = %v, want an error", bad, got)
		}
	}
}
