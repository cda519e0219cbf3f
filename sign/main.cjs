// Generated with action.yml; starts the scribe-actions binary (launcher/entry.cjs).
require('../launcher/entry.cjs').run('sign');
