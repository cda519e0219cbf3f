package build

import (
	"reflect"
	"strings"
	"testing"
)

// The secrets input is split as build-push-action splits it: the cases of actions-toolkit's
// __tests__/util.test.ts for getInputList('secrets', {ignoreComma: true}), then this action's errors.
func TestSplitSecretsAsBuildPushAction(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		want       []string
	}{
		{"single line", "bar", []string{"bar"}},
		{"empty", "", nil},
		{"lines, empty ones dropped", "bar\n\nbaz", []string{"bar", "baz"}},
		{"CRLF", "bar\r\nbaz", []string{"bar", "baz"}},
		{"CRLF inside quotes is the value's", "\"KEY=a\r\nb\"\r\nX=1\r\n", []string{"KEY=a\r\nb", "X=1"}},
		{"a comma is part of the value", "GIT_AUTH_TOKEN=abcdefgh,ijklmno=0123456789", []string{"GIT_AUTH_TOKEN=abcdefgh,ijklmno=0123456789"}},
		{"multiline values",
			"GIT_AUTH_TOKEN=abcdefgh,ijklmno=0123456789\n\"MYSECRET=aaaaaaaa\nbbbbbbb\nccccccccc\"\nFOO=bar",
			[]string{"GIT_AUTH_TOKEN=abcdefgh,ijklmno=0123456789", "MYSECRET=aaaaaaaa\nbbbbbbb\nccccccccc", "FOO=bar"}},
		{"multiline values with empty lines",
			"\"MYSECRET=aaaaaaaa\nbbbbbbb\nccccccccc\"\nFOO=bar\n\"EMPTYLINE=aaaa\n\nbbbb\nccc\"",
			[]string{"MYSECRET=aaaaaaaa\nbbbbbbb\nccccccccc", "FOO=bar", "EMPTYLINE=aaaa\n\nbbbb\nccc"}},
		{"multiline values without quotes are lines",
			"MYSECRET=aaaaaaaa\nbbbbbbb\nFOO=bar", []string{"MYSECRET=aaaaaaaa", "bbbbbbb", "FOO=bar"}},
		{"multiline values escape quotes",
			"\"MYSECRET=aaaaaaaa\nbbbb\"\"bbb\nccccccccc\"\nFOO=bar", []string{"MYSECRET=aaaaaaaa\nbbbb\"bbb\nccccccccc", "FOO=bar"}},
		{"a quote inside an unquoted value is kept", `JSON={"a":1}`, []string{`JSON={"a":1}`}},
		{"quoted fields joined with commas", `"a=1,2",3`, []string{"a=1,2,3"}},
		{"spaces after the closing quote", "\"a=1\"  \nb=2", []string{"a=1", "b=2"}},
		{"items trimmed", "  a=1  \n\"b= 2 \"", []string{"a=1", "b= 2"}},
		{"a quote after a space opens no field", "x=1\n \"b=2\"", []string{"x=1", `"b=2"`}},
	} {
		got, err := splitSecrets(tt.text)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	for text, want := range map[string]string{
		"a=1\n\"KEY=-----BEGIN\nxyz\n": "the double quote opened on line 2 is not closed",
		"\"a=1\"b\nc=2":                "line 1: a double-quoted value must end its item",
	} {
		if _, err := splitSecrets(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %s", text, err, want)
		}
	}
}

// A PEM key keeps its lines and its bytes: the file buildx reads is the key as the secret store holds it, less
// the surrounding whitespace build-push-action trims too.
func TestParseSecretsKeepsAMultiLineValue(t *testing.T) {
	key := "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49\nAwEHoUQDQgAEPR3tU2Fta9ktY+6P9G0cWO+0kETA6SFs38GecTyudlHz6xvCdz8q\n-----END EC PRIVATE KEY-----"
	secrets, err := parseSecrets("\"SSH_KEY=" + key + "\n\"\nA=b=c")
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 2 || secrets[0].id != "SSH_KEY" || secrets[0].value != key || secrets[1].id != "A" || secrets[1].value != "b=c" {
		t.Errorf("%+v", secrets)
	}
}
