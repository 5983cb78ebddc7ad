// Package blobstore opens the origin's object stores and moves files in and
// out of them. Stores are gocloud.dev/blob buckets: a folder on local disk by
// default, S3 (or GCS, Azure) by URL.
package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// buckets
	_ "gocloud.dev/blob/s3blob"   // s3:// buckets
	"gocloud.dev/gcerrors"
)

// ErrNotFound is returned for a key the bucket does not hold.
var ErrNotFound = errors.New("object not found")

// FolderURL is the bucket URL of a local folder, created if missing.
// Temporary files go next to their final name (no_tmp_dir), so a write is a
// rename within one file system rather than a copy across two.
func FolderURL(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "create_dir=1&no_tmp_dir=1"}
	return u.String(), nil
}

// Open opens the bucket at urlstr.
func Open(ctx context.Context, urlstr string) (*blob.Bucket, error) {
	b, err := blob.OpenBucket(ctx, urlstr)
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", redact(urlstr), err)
	}
	return b, nil
}

// redact drops credentials a URL may carry before it is logged.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable url)"
	}
	u.User = nil
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "secret") || strings.Contains(strings.ToLower(k), "key") {
			q.Set(k, "REDACTED")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// PutFile copies the local file at src to key.
func PutFile(ctx context.Context, b *blob.Bucket, key, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	opts := &blob.WriterOptions{ContentType: ContentType(key)}
	if err := b.Upload(ctx, key, f, opts); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// PutDir uploads the given files (paths relative to dir, forward slashes)
// under prefix.
func PutDir(ctx context.Context, b *blob.Bucket, prefix, dir string, files []string) error {
	for _, rel := range files {
		if err := PutFile(ctx, b, path.Join(prefix, rel), filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return err
		}
	}
	return nil
}

// GetFile copies key to the local file dst.
func GetFile(ctx context.Context, b *blob.Bucket, key, dst string) error {
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return wrapNotFound(key, err)
	}
	defer r.Close()
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("get %s: %w", key, err)
	}
	return f.Close()
}

// DeletePrefix removes every object under prefix.
func DeletePrefix(ctx context.Context, b *blob.Bucket, prefix string) error {
	it := b.List(&blob.ListOptions{Prefix: prefix})
	var errs []error
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		if obj.IsDir {
			continue
		}
		if err := b.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			errs = append(errs, fmt.Errorf("delete %s: %w", obj.Key, err))
		}
	}
	return errors.Join(errs...)
}

// Delete removes one object; a missing object is not an error.
func Delete(ctx context.Context, b *blob.Bucket, key string) error {
	if err := b.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// wrapNotFound maps the driver's not-found to ErrNotFound.
func wrapNotFound(key string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return fmt.Errorf("read %s: %w", key, err)
}

// IsNotFound reports whether err means the object does not exist.
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || gcerrors.Code(err) == gcerrors.NotFound
}

// ContentType is the media type served for a media object, by extension.
// Players are strict about these: hls.js accepts several, Safari only the
// registered HLS type.
func ContentType(key string) string {
	switch strings.ToLower(path.Ext(key)) {
	case ".m3u8":
		return "application/vnd.apple.mpegurl"
	case ".mpd":
		return "application/dash+xml"
	case ".m4s":
		return "video/iso.segment"
	case ".mp4", ".m4v":
		return "video/mp4"
	case ".m4a":
		return "audio/mp4"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".webp":
		return "image/webp"
	case ".png":
		return "image/png"
	case ".vtt":
		return "text/vtt; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "application/octet-stream"
}
