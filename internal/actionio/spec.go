package actionio

import (
	"fmt"
	"strconv"
	"time"
)

// Kind is the type an input's text is parsed into.
type Kind string

// The kinds of input. Their names appear in --help.
const (
	KindString   Kind = "string"
	KindBool     Kind = "bool"
	KindInt      Kind = "int"
	KindDuration Kind = "duration"
	KindBytes    Kind = "size"
	KindList     Kind = "list"
	KindEnum     Kind = "enum"
	KindMap      Kind = "map"
)

// Spec declares one action: its name, what it does, its inputs and its outputs.
type Spec struct {
	Name        string
	Description string
	Inputs      []*Input
	Outputs     []Output
}

// Output is one declared output of an action.
type Output struct {
	Name        string
	Description string
}

// Input is one declared input, bound to the field its parsed value is stored in.
type Input struct {
	Name        string
	Description string
	Kind        Kind
	// Default is the input's text when the user gives none; "" means no default.
	Default string
	// Allowed lists the values an enum accepts.
	Allowed []string

	required      bool
	secret        bool
	linesOnly     bool
	runnerDefault string
	checks        []func(string) error
	set           func(in *Input, text string) error
}

// IsRequired reports whether the input must be given.
func (in *Input) IsRequired() bool { return in.required }

// IsSecret reports whether the input's value is masked in logs.
func (in *Input) IsSecret() bool { return in.secret }

// Required marks the input as one the user must give. A required input has no default.
func (in *Input) Required() *Input {
	in.required = true
	in.Default, in.runnerDefault = "", ""
	return in
}

// RunnerDefault makes a ${{ }} expression (${{ github.token }}) the input's default in action.yml, where the
// runner evaluates it before the binary starts, as actions/delete-package-versions defaults its token. The binary
// cannot evaluate it, so outside a runner the input has no default (Default aside): the action must say what is
// missing. In action.yml it takes the place of Default.
func (in *Input) RunnerDefault(expr string) *Input {
	in.runnerDefault = expr
	return in
}

// actionDefault is the input's default as action.yml declares it.
func (in *Input) actionDefault() string {
	if in.runnerDefault != "" {
		return in.runnerDefault
	}
	return in.Default
}

// Secret marks the input's value for masking in every log line of the job.
func (in *Input) Secret() *Input {
	in.secret = true
	return in
}

// LinesOnly makes a list or map input split on newlines only, for items that contain commas
// (metadata-action's tag rules, for one).
func (in *Input) LinesOnly() *Input {
	in.linesOnly = true
	return in
}

// Check adds a validation run on the value (on each item, for a list or map) before the action starts.
// Its error says what is wrong and what is allowed; the input's name and text are added to it.
func (in *Input) Check(check func(string) error) *Input {
	in.checks = append(in.checks, check)
	return in
}

func (s *Spec) add(in *Input) *Input {
	s.Inputs = append(s.Inputs, in)
	return in
}

// String declares a free-text input.
func (s *Spec) String(p *string, name, def, desc string) *Input {
	return s.add(&Input{Name: name, Description: desc, Kind: KindString, Default: def,
		set: func(in *Input, text string) error {
			if err := in.check(text); err != nil {
				return quoted(text, err)
			}
			*p = text
			return nil
		}})
}

// Bool declares a true/false input (true, True, TRUE, false, False or FALSE, as the runner's toolkit accepts).
func (s *Spec) Bool(p *bool, name string, def bool, desc string) *Input {
	return s.add(&Input{Name: name, Description: desc, Kind: KindBool, Default: strconv.FormatBool(def),
		set: func(_ *Input, text string) error {
			v, err := parseBool(text)
			if err != nil {
				return quoted(text, err)
			}
			*p = v
			return nil
		}})
}

// Int declares a whole-number input.
func (s *Spec) Int(p *int, name string, def int, desc string) *Input {
	return s.add(&Input{Name: name, Description: desc, Kind: KindInt, Default: strconv.Itoa(def),
		set: func(in *Input, text string) error {
			v, err := strconv.Atoi(text)
			if err != nil {
				return quoted(text, fmt.Errorf("is not a whole number"))
			}
			if err := in.check(text); err != nil {
				return quoted(text, err)
			}
			*p = v
			return nil
		}})
}

// Duration declares a duration input: Go's units (90s, 1h30m) plus d for days and w for weeks.
func (s *Spec) Duration(p *time.Duration, name, def, desc string) *Input {
	return s.add(&Input{Name: name, Description: desc, Kind: KindDuration, Default: def,
		set: func(in *Input, text string) error {
			v, err := ParseDuration(text)
			if err != nil {
				return quoted(text, err)
			}
			if err := in.check(text); err != nil {
				return quoted(text, err)
			}
			*p = v
			return nil
		}})
}

// Bytes declares a byte-size input such as 500MB, 1.5GiB or 2048 (bytes).
func (s *Spec) Bytes(p *int64, name, def, desc string) *Input {
	return s.add(&Input{Name: name, Description: desc, Kind: KindBytes, Default: def,
		set: func(in *Input, text string) error {
			v, err := ParseBytes(text)
			if err != nil {
				return quoted(text, err)
			}
			if err := in.check(text); err != nil {
				return quoted(text, err)
			}
			*p = v
			return nil
		}})
}

// List declares a list input, split on newlines and commas (a double-quoted item may hold a comma).
func (s *Spec) List(p *[]string, name, def, desc string) *Input {
	return s.add(&Input{Name: name, Description: desc, Kind: KindList, Default: def,
		set: func(in *Input, text string) error {
			items, err := splitList(text, in.linesOnly)
			if err != nil {
				return err
			}
			for _, item := range items {
				if err := in.check(item); err != nil {
					return fmt.Errorf("item %q %w", item, err)
				}
			}
			*p = items
			return nil
		}})
}

// Enum declares an input that must be one of the allowed values.
func (s *Spec) Enum(p *string, name, def string, allowed []string, desc string) *Input {
	return s.add(&Input{Name: name, Description: desc, Kind: KindEnum, Default: def, Allowed: allowed,
		set: func(in *Input, text string) error {
			for _, a := range in.Allowed {
				if text == a {
					*p = text
					return nil
				}
			}
			return quoted(text, fmt.Errorf("is not allowed (want one of: %s)", join(in.Allowed)))
		}})
}

// Map declares a key=value input, one pair per line or comma-separated.
func (s *Spec) Map(p *map[string]string, name, def, desc string) *Input {
	return s.add(&Input{Name: name, Description: desc, Kind: KindMap, Default: def,
		set: func(in *Input, text string) error {
			m, err := parseMap(text, in.linesOnly)
			if err != nil {
				return err
			}
			for k, v := range m {
				if err := in.check(v); err != nil {
					return fmt.Errorf("key %q: value %q %w", k, v, err)
				}
			}
			*p = m
			return nil
		}})
}

// Output declares an output of the action.
func (s *Spec) Output(name, desc string) {
	s.Outputs = append(s.Outputs, Output{Name: name, Description: desc})
}

// Input returns the declared input with the given name, or nil.
func (s *Spec) Input(name string) *Input {
	for _, in := range s.Inputs {
		if in.Name == name {
			return in
		}
	}
	return nil
}

func (in *Input) check(text string) error {
	for _, c := range in.checks {
		if err := c(text); err != nil {
			return err
		}
	}
	return nil
}

// quoted puts the text the user gave in front of what is wrong with it: `"linux/amd65" is not a platform`.
func quoted(text string, err error) error {
	return fmt.Errorf("%q %w", text, err)
}
