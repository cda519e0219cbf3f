package cleanup

import (
	"fmt"
	"time"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// parseAgeInput is ParseAge for an input's value, "" being no age: the error names the input.
func parseAgeInput(input, text string) (time.Duration, error) {
	if text == "" {
		return 0, nil
	}
	d, err := actionio.ParseAge(text)
	if err != nil {
		return 0, fmt.Errorf("input %q: %q %w", input, text, err)
	}
	return d, nil
}
