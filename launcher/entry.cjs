'use strict';
// entry.cjs starts the launcher for one action: every action is a node24 action whose main file is one line,
// require('../launcher/entry.cjs').run('<action>').
//
// Why JavaScript at all: GitHub's runner gives the Actions runtime (ACTIONS_RUNTIME_TOKEN, ACTIONS_CACHE_URL,
// ACTIONS_RESULTS_URL, ACTIONS_CACHE_SERVICE_V2) only to JavaScript and container actions, never to run: steps,
// and a composite action's steps are run: steps (actions/runner, src/Runner.Worker/Handlers:
// NodeScriptActionHandler.cs sets them, ScriptHandler.cs does not). buildx's type=gha cache needs them; a
// process started from here inherits them. The table is written down in internal/ghrunner/contract.go.
//
// Plain CommonJS, no dependencies: act runs whatever node the job has, and the runner runs this file from the
// workspace, without GITHUB_ACTION_PATH (composite-only), so files are found from __dirname.
var os = require('os');
var path = require('path');
var spawn = require('child_process').spawn;

// aliases adds INPUT_TAG_SUFFIX beside the runner's INPUT_TAG-SUFFIX (Handler.cs: "INPUT_" + the name with
// spaces as "_", upper-cased; hyphens kept). dash, the /bin/sh of Debian and Ubuntu, drops variables whose
// names are not identifiers before it runs anything; the binary reads both names.
// The runner's value wins over a variable of the alias's name set some other way (a job's env:).
function aliases(env) {
  Object.keys(env).forEach(function (k) {
    var alias = k.replace(/[^A-Za-z0-9_]/g, '_');
    if (k.indexOf('INPUT_') === 0 && alias !== k) env[alias] = env[k];
  });
  return env;
}

exports.run = function (action) {
  var env = aliases(Object.assign({}, process.env));
  // The launcher's names for what a composite passed as github.action_ref and github.action_repository; a
  // JavaScript action has them as GITHUB_ACTION_REF and GITHUB_ACTION_REPOSITORY.
  env.SCRIBE_ACTION_REF = env.SCRIBE_ACTION_REF || env.GITHUB_ACTION_REF || '';
  env.SCRIBE_ACTION_REPOSITORY = env.SCRIBE_ACTION_REPOSITORY || env.GITHUB_ACTION_REPOSITORY || '';
  var shell = process.platform === 'win32' ? 'bash' : 'sh'; // Git's bash is the sh of Windows runners
  // Forward slashes: launch.sh finds the checkout from its $0, by the last "/" (D:\a\... has none).
  var launcher = path.join(__dirname, 'launch.sh').replace(/\\/g, '/');
  var child = spawn(shell, [launcher, action], { stdio: 'inherit', env: env });

  // On cancel the runner sends SIGINT, then SIGTERM 7.5 s later, then kills the tree (ProcessInvoker.cs):
  // pass them on so the binary can stop its builds and clean up, and end the way it ended.
  var signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  signals.forEach(function (s) {
    process.on(s, function () { child.kill(s); });
  });
  child.on('error', function (err) {
    process.stdout.write('::error::scribe-actions: cannot start ' + shell + ': ' + err.message + '\n');
    process.exit(127);
  });
  child.on('exit', function (code, signal) {
    if (signal) {
      signals.forEach(function (s) { process.removeAllListeners(s); });
      process.kill(process.pid, signal);
      // a signal node ignores (SIGPIPE) would leave it running and exiting 0: fail as a shell reports it
      process.exit(128 + (os.constants.signals[signal] || 0));
    }
    process.exit(code === null ? 1 : code);
  });
};
