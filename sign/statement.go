package sign

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore/pkg/signature/payload"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// What is signed. cosign's classic signatures sign its simple signing payload; its attestations (`cosign attest`)
// are in-toto v0.1 statements; cosign v3 signs an image, in a sigstore bundle, with an in-toto v1 statement of its
// own predicate type. The v0.1 and v1 statements share their JSON field names, so one Go type writes both.
const (
	inTotoStatementV01  = "https://in-toto.io/Statement/v0.1"
	inTotoPayloadType   = "application/vnd.in-toto+json"
	cosignSignPredicate = "https://sigstore.dev/cosign/sign/v1"
)

// simpleSigningPayload is the payload of a classic signature of d, made by sigstore's payload package as cosign
// makes it: {"critical":{"identity":{"docker-reference":repo},"image":{"docker-manifest-digest":d},"type":
// "cosign container image signature"},"optional":null}. Its bytes are stable, so signing again finds them.
func simpleSigningPayload(d name.Digest) ([]byte, error) {
	return payload.Cosign{Image: d}.MarshalJSON()
}

// signedDigest is the manifest digest a simple signing payload names.
func signedDigest(raw []byte) (string, error) {
	var sp payload.SimpleContainerImage
	err := json.Unmarshal(raw, &sp)
	return sp.Critical.Image.DockerManifestDigest, err
}

// signStatement is what cosign v3 signs for an image: an in-toto v1 statement about the digest alone (no name,
// empty annotations and predicate), byte for byte what cosign v3 writes.
func signStatement(d name.Digest) ([]byte, error) {
	alg, hex, _ := strings.Cut(d.DigestStr(), ":")
	return marshalStatement(&intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       []*intoto.ResourceDescriptor{{Digest: map[string]string{alg: hex}, Annotations: &structpb.Struct{}}},
		PredicateType: cosignSignPredicate,
		Predicate:     &structpb.Struct{},
	})
}

// attestationStatement is the statement of an attestation about d, as `cosign attest` makes it: in-toto v0.1,
// the subject named by its repository. The Statement type holds an object predicate only: another (cosign's
// "spdx" text) is written after the header the Statement type writes.
func attestationStatement(d name.Digest, p Predicate) ([]byte, error) {
	alg, hex, _ := strings.Cut(d.DigestStr(), ":")
	st := &intoto.Statement{
		Type:          inTotoStatementV01,
		Subject:       []*intoto.ResourceDescriptor{{Name: d.Context().Name(), Digest: map[string]string{alg: hex}}},
		PredicateType: p.Type,
		Predicate:     p.Body.GetStructValue(),
	}
	if st.Predicate != nil || p.Body == nil {
		return marshalStatement(st)
	}
	st.Predicate = &structpb.Struct{}
	header, err := marshalStatement(st)
	if err != nil {
		return nil, err
	}
	value, err := protojson.Marshal(p.Body)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(bytes.TrimSuffix(header, []byte(`{}}`))) // ...,"predicate":
	if err := json.Compact(&b, value); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalStatement checks a statement and writes it as protojson does (the in-toto field names: _type,
// predicateType), compacted: protojson varies its spacing from one build to the next on purpose, and the bytes
// that get signed are better the same every time.
func marshalStatement(st *intoto.Statement) ([]byte, error) {
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("in-toto statement (%s): %w", st.GetPredicateType(), err)
	}
	raw, err := protojson.Marshal(st)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var readProto = protojson.UnmarshalOptions{DiscardUnknown: true}

// readStatement reads an in-toto statement's type, subject and predicate type. Its predicate is left out:
// cosign's "spdx" attestations carry a string there, which the Statement type (an object) cannot hold.
func readStatement(raw []byte) (*intoto.Statement, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	delete(fields, "predicate")
	header, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	st := &intoto.Statement{}
	return st, readProto.Unmarshal(header, st)
}

// sameStatement tells whether two statements say the same thing, whatever their key order and spacing: one
// written by an earlier version of this action is found again.
func sameStatement(a, b []byte) bool {
	var sa, sb any
	return json.Unmarshal(a, &sa) == nil && json.Unmarshal(b, &sb) == nil && reflect.DeepEqual(sa, sb)
}

// statementOf is the in-toto statement inside a DSSE envelope.
func statementOf(e entry) []byte {
	var env struct {
		Payload string `json:"payload"`
	}
	json.Unmarshal(e.payload, &env)
	raw, _ := base64.StdEncoding.DecodeString(env.Payload)
	return raw
}

// asStruct is a message as the JSON object a statement's predicate holds.
func asStruct(m proto.Message) (*structpb.Struct, error) {
	raw, err := protojson.Marshal(m)
	if err != nil {
		return nil, err
	}
	s := &structpb.Struct{}
	return s, protojson.Unmarshal(raw, s)
}
