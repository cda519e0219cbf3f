// Writes seen=<names> to GITHUB_OUTPUT, and the value of LATER (set by an earlier step through GITHUB_ENV).
var fs = require('fs');
var names = Object.keys(process.env).filter(function (k) {
  return /^(ACTIONS_|INPUT_)/.test(k) || k === 'GITHUB_ACTION_PATH';
}).sort();
fs.appendFileSync(process.env.GITHUB_OUTPUT, 'seen=' + names.join(' ') + ' \n');
console.log('LATER=' + (process.env.LATER || ''));
