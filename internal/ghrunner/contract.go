// Package ghrunner runs an action's action.yml the way GitHub's hosted runner does, for tests: which variables
// reach which kind of step, how inputs become INPUT_ variables, the file commands and ::add-mask::. act runs
// whole workflows; this package is where act's behaviour differs from GitHub's (act gives the Actions runtime
// to every step when it has an artifact server, and a composite's run: steps its INPUT_ variables).
package ghrunner

import (
	"strings"
)

// StepKind is how the runner runs a step; each kind has its own handler, with its own environment.
type StepKind string

const (
	RunStep       StepKind = "run"       // a run: step; a composite action's steps are run: steps too
	NodeStep      StepKind = "node"      // a JavaScript action (runs.using node20, node24)
	ContainerStep StepKind = "container" // a Docker container action
)

// Runtime is what the Actions service gives the runner for a job, before any step sees it.
type Runtime struct {
	Token      string // ACTIONS_RUNTIME_TOKEN; also the value of ACTIONS_ID_TOKEN_REQUEST_TOKEN
	RuntimeURL string // ACTIONS_RUNTIME_URL
	CacheURL   string // ACTIONS_CACHE_URL: the legacy v1 cache service
	ResultsURL string // ACTIONS_RESULTS_URL: the results service, home of the v2 cache
	CacheV2    bool   // the job variable actions_uses_cache_service_v2: ACTIONS_CACHE_SERVICE_V2=True
	IDTokenURL string // ACTIONS_ID_TOKEN_REQUEST_URL: only when the job has permissions id-token: write
}

// Contract is which runtime variable reaches which kind of step on GitHub's runner, written from its source
// (github.com/actions/runner, src/Runner.Worker/Handlers):
//   - ScriptHandler.cs (run: steps, a composite's included) sets only ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN,
//     when the job's connection has GenerateIdTokenUrl (id-token: write);
//   - NodeScriptActionHandler.cs and ContainerActionHandler.cs set ACTIONS_RUNTIME_URL, ACTIONS_RUNTIME_TOKEN,
//     ACTIONS_CACHE_URL (when the service sends CacheServerUrl), ACTIONS_RESULTS_URL (ResultsServiceUrl),
//     ACTIONS_CACHE_SERVICE_V2 = "True" (job variable actions_uses_cache_service_v2) and the id-token pair.
//
// The runner's open issues asking for the runtime in run: steps say the same (actions/runner#3046, #3390,
// #4325: "ScriptHandler was missing ... ACTIONS_RUNTIME_TOKEN ... that NodeScriptActionHandler and
// ContainerActionHandler already expose"), as do Docker's gha cache documentation and docker/bake-action#36.
var Contract = map[string][]StepKind{
	"ACTIONS_RUNTIME_TOKEN":          {NodeStep, ContainerStep},
	"ACTIONS_RUNTIME_URL":            {NodeStep, ContainerStep},
	"ACTIONS_CACHE_URL":              {NodeStep, ContainerStep},
	"ACTIONS_RESULTS_URL":            {NodeStep, ContainerStep},
	"ACTIONS_CACHE_SERVICE_V2":       {NodeStep, ContainerStep},
	"ACTIONS_ID_TOKEN_REQUEST_URL":   {RunStep, NodeStep, ContainerStep},
	"ACTIONS_ID_TOKEN_REQUEST_TOKEN": {RunStep, NodeStep, ContainerStep},
}

// Reaches tells whether the runner gives a step of this kind the variable.
func Reaches(name string, kind StepKind) bool {
	for _, k := range Contract[name] {
		if k == kind {
			return true
		}
	}
	return false
}

// Env is the runtime as a step of this kind sees it: only the variables the Contract gives it, and only those
// the service sent.
func (r Runtime) Env(kind StepKind) map[string]string {
	all := map[string]string{
		"ACTIONS_RUNTIME_TOKEN": r.Token,
		"ACTIONS_RUNTIME_URL":   r.RuntimeURL,
		"ACTIONS_CACHE_URL":     r.CacheURL,
		"ACTIONS_RESULTS_URL":   r.ResultsURL,
	}
	if r.CacheV2 {
		all["ACTIONS_CACHE_SERVICE_V2"] = "True"
	}
	if r.IDTokenURL != "" {
		all["ACTIONS_ID_TOKEN_REQUEST_URL"] = r.IDTokenURL
		all["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = r.Token
	}
	env := map[string]string{}
	for k, v := range all {
		if v != "" && Reaches(k, kind) {
			env[k] = v
		}
	}
	return env
}

// InputEnvName is the variable the runner gives a JavaScript or container action for an input: Handler.cs
// AddInputsToEnvironment, "INPUT_" + name.Replace(' ', '_').ToUpperInvariant(). Only spaces change: a hyphen
// stays (INPUT_TAG-SUFFIX). A composite action's steps get no INPUT_ variables (CompositeActionHandler.cs puts
// inputs only in the inputs context; GitHub's metadata syntax documentation says the same).
func InputEnvName(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// Other facts the runner keeps, used by Runner.Run:
//   - GITHUB_ACTION_PATH only for a composite's steps (CompositeActionHandler.cs sets github.action_path per
//     embedded step); a JavaScript action has none (actions/runner#649) and finds its files from its own path.
//   - every step gets fresh GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STATE and GITHUB_STEP_SUMMARY files
//     (FileCommandManager.cs), read after the step; GITHUB_ACTIONS=true and CI=true (ProcessInvoker.cs).
//   - a step runs in GITHUB_WORKSPACE; a node action as `node <action dir>/<main>`.
//   - ::add-mask::value masks the value in every later line of the job's log; the command line is not echoed
//     (ActionCommandManager.cs, AddMaskCommandExtension: OmitEcho).
//   - a run: step's shell bash is `bash --noprofile --norc -eo pipefail {0}`, sh is `sh -e {0}` (docs,
//     "Workflow syntax: jobs.<job_id>.steps[*].shell").
