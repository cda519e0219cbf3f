package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/infinite-scribe/scribe-actions/internal/actionio"
)

// budgets are the limits a build must stay within.
type budgets struct {
	maxSize, maxWaste int64
	minEfficiency     float64
	maxWastedPercent  float64
}

// readBudgets takes max-size and max-waste from the inputs, and dive's CI rules (lowestEfficiency,
// highestWastedBytes, highestUserWastedPercent) from the budgets file when it exists; an input wins.
func readBudgets(in *Inputs) (budgets, error) {
	b := budgets{maxSize: in.MaxSize, maxWaste: in.MaxWaste}
	data, err := os.ReadFile(in.BudgetsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return b, err
	}
	var f struct {
		Rules map[string]string `yaml:"rules"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return b, fmt.Errorf("%s: %w", in.BudgetsFile, err)
	}
	for k, v := range f.Rules {
		if v == "disabled" || v == "" {
			continue
		}
		switch k {
		case "lowestEfficiency":
			if b.minEfficiency, err = strconv.ParseFloat(v, 64); err != nil {
				return b, fmt.Errorf("%s: rules.lowestEfficiency %q is not a number", in.BudgetsFile, v)
			}
		case "highestUserWastedPercent":
			if b.maxWastedPercent, err = strconv.ParseFloat(v, 64); err != nil {
				return b, fmt.Errorf("%s: rules.highestUserWastedPercent %q is not a number", in.BudgetsFile, v)
			}
		case "highestWastedBytes":
			n, err := actionio.ParseBytes(v)
			if err != nil {
				return b, fmt.Errorf("%s: rules.highestWastedBytes %q %v", in.BudgetsFile, v, err)
			}
			if b.maxWaste == 0 {
				b.maxWaste = n
			}
		default:
			return b, fmt.Errorf("%s: unknown rule %q (want lowestEfficiency, highestWastedBytes, highestUserWastedPercent)", in.BudgetsFile, k)
		}
	}
	return b, nil
}
