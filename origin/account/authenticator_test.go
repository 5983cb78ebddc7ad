package account

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// softKey is a software authenticator: one ECDSA P-256 credential,
// "none" attestation, enough of CTAP2's data formats to produce real
// attestation and assertion responses for go-webauthn to check.
type softKey struct {
	t       *testing.T
	key     *ecdsa.PrivateKey
	id      []byte
	count   uint32
	rpID    string
	origin  string
	handle  []byte // the user handle, learnt at registration
	noUP    bool   // leave the user-presence flag out
	counter func(uint32) uint32
}

func newSoftKey(t *testing.T, rpID, origin string) *softKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &softKey{t: t, key: k, id: id, rpID: rpID, origin: origin}
}

// clone is a copy of the same key with its own counter, as a cloned
// authenticator would be.
func (s *softKey) clone() *softKey {
	c := *s
	return &c
}

var b64 = base64.RawURLEncoding

func (s *softKey) flags(extra byte) byte {
	f := byte(0x04) | extra // UV
	if !s.noUP {
		f |= 0x01
	}
	return f
}

func (s *softKey) authData(flags byte, attested []byte) []byte {
	rp := sha256.Sum256([]byte(s.rpID))
	out := append([]byte{}, rp[:]...)
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, s.count)
	return append(out, attested...)
}

func (s *softKey) cose() []byte {
	x := s.key.PublicKey.X.FillBytes(make([]byte, 32))
	y := s.key.PublicKey.Y.FillBytes(make([]byte, 32))
	em, _ := cbor.CoreDetEncOptions().EncMode()
	raw, err := em.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		s.t.Fatal(err)
	}
	return raw
}

func (s *softKey) clientData(typ, challenge string) []byte {
	raw, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": s.origin, "crossOrigin": false})
	return raw
}

// options is the part of a begin answer the authenticator reads.
type options struct {
	Ceremony string `json:"ceremony"`
	Options  struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	} `json:"options"`
}

// create answers navigator.credentials.create().
func (s *softKey) create(o options) []byte {
	handle, err := b64.DecodeString(o.Options.PublicKey.User.ID)
	if err != nil {
		s.t.Fatalf("user id %q: %v", o.Options.PublicKey.User.ID, err)
	}
	s.handle = handle
	attested := make([]byte, 16) // AAGUID: zeros
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(s.id)))
	attested = append(attested, s.id...)
	attested = append(attested, s.cose()...)
	ad := s.authData(s.flags(0x40), attested) // AT
	em, _ := cbor.CoreDetEncOptions().EncMode()
	att, err := em.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	if err != nil {
		s.t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(s.id), "rawId": b64.EncodeToString(s.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(s.clientData("webauthn.create", o.Options.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
	})
	return raw
}

// get answers navigator.credentials.get(), counting one more use.
func (s *softKey) get(o options) []byte {
	s.count++
	ad := s.authData(s.flags(0), nil)
	cd := s.clientData("webauthn.get", o.Options.PublicKey.Challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, digest[:])
	if err != nil {
		s.t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(s.id), "rawId": b64.EncodeToString(s.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(s.handle),
		},
	})
	return raw
}
