package upload

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"

	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"
)

// checksumAlgorithms are those the checksum extension accepts here, in the
// order they are announced.
var checksumAlgorithms = []string{"sha1", "sha256", "md5"}

// statusChecksumMismatch is the tus checksum extension's status code.
const statusChecksumMismatch = 460

type checksumKey struct{}

// checksum is a parsed Upload-Checksum header.
type checksum struct {
	algo string
	sum  []byte
}

func parseChecksumHeader(v string) (checksum, error) {
	algo, b64, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return checksum{}, fmt.Errorf("Upload-Checksum must be an algorithm and a base64 digest, got %q", v)
	}
	algo = strings.ToLower(algo)
	if newHash(algo) == nil {
		return checksum{}, fmt.Errorf("checksum algorithm %q is not supported (use one of %s)", algo, strings.Join(checksumAlgorithms, ", "))
	}
	sum, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return checksum{}, fmt.Errorf("Upload-Checksum digest is not base64: %w", err)
	}
	return checksum{algo: algo, sum: sum}, nil
}

func newHash(algo string) hash.Hash {
	switch algo {
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	case "md5":
		return md5.New()
	}
	return nil
}

// checksumStore wraps tusd's filestore with the checksum extension: a PATCH
// that carries Upload-Checksum is hashed as it is written and, if the digest
// differs (or the body ends early), the chunk is cut off the file again, so
// the upload's offset is what it was before the request.
type checksumStore struct {
	inner filestore.FileStore
}

type checksumUpload struct {
	tusd.Upload
}

func (s checksumStore) NewUpload(ctx context.Context, info tusd.FileInfo) (tusd.Upload, error) {
	u, err := s.inner.NewUpload(ctx, info)
	if err != nil {
		return nil, err
	}
	return checksumUpload{u}, nil
}

func (s checksumStore) GetUpload(ctx context.Context, id string) (tusd.Upload, error) {
	u, err := s.inner.GetUpload(ctx, id)
	if err != nil {
		return nil, err
	}
	return checksumUpload{u}, nil
}

func (s checksumStore) AsTerminatableUpload(u tusd.Upload) tusd.TerminatableUpload {
	return s.inner.AsTerminatableUpload(unwrap(u))
}

func (s checksumStore) AsLengthDeclarableUpload(u tusd.Upload) tusd.LengthDeclarableUpload {
	return s.inner.AsLengthDeclarableUpload(unwrap(u))
}

func unwrap(u tusd.Upload) tusd.Upload {
	if cu, ok := u.(checksumUpload); ok {
		return cu.Upload
	}
	return u
}

// WriteChunk verifies the chunk when the request carried a checksum.
func (u checksumUpload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	want, ok := ctx.Value(checksumKey{}).(checksum)
	if !ok {
		return u.Upload.WriteChunk(ctx, offset, src)
	}
	h := newHash(want.algo)
	n, err := u.Upload.WriteChunk(ctx, offset, io.TeeReader(src, h))
	if err == nil && bytes.Equal(h.Sum(nil), want.sum) {
		return n, nil
	}
	// A partial or corrupt chunk cannot be verified: take it back out.
	if terr := u.truncate(ctx, offset); terr != nil {
		return n, fmt.Errorf("checksum failed and the chunk could not be removed: %w", terr)
	}
	if err != nil {
		return 0, err
	}
	return 0, tusError(statusChecksumMismatch, "checksum_mismatch",
		fmt.Sprintf("the %s checksum of the %d bytes received does not match Upload-Checksum", want.algo, n))
}

func (u checksumUpload) truncate(ctx context.Context, offset int64) error {
	info, err := u.Upload.GetInfo(ctx)
	if err != nil {
		return err
	}
	path := info.Storage[filestore.StorageKeyPath]
	if path == "" {
		return fmt.Errorf("upload %s has no file path", info.ID)
	}
	return os.Truncate(path, offset)
}
