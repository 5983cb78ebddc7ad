package upload

import (
	"context"
	"errors"
	"net/http"

	tusd "github.com/tus/tusd/v2/pkg/handler"
)

// Grant is what the API, having authenticated a request, lets an upload
// do: whose video it becomes, and a check of its size against that
// account's quotas before a byte is stored. The upload package decides
// nothing about accounts; without a Grant an upload has no owner.
type Grant struct {
	Owner string
	// Check refuses an upload of size bytes (-1 when the length is
	// deferred) with a *Refusal, or returns nil.
	Check func(ctx context.Context, size int64) error
}

// Refusal is an upload refused with a status and a code, for example 413
// quota_reached.
type Refusal struct {
	Status        int
	Code, Message string
}

func (r *Refusal) Error() string { return r.Message }

// ownerKey is the metadata key where the owner travels from the upload's
// creation to its finish; clients cannot set it (preCreate overwrites it).
const ownerKey = "strata_owner"

type grantKey struct{}

// WithGrant returns ctx carrying g; tusd hands the request's context
// values to the hooks.
func WithGrant(ctx context.Context, g *Grant) context.Context {
	return context.WithValue(ctx, grantKey{}, g)
}

func grantFrom(ctx context.Context) *Grant {
	if ctx == nil {
		return nil
	}
	g, _ := ctx.Value(grantKey{}).(*Grant)
	return g
}

// applyGrant runs the grant's check and returns the metadata to store: the
// client's, with the owner set by the server.
func applyGrant(ev tusd.HookEvent) (tusd.MetaData, error) {
	md := tusd.MetaData{}
	for k, v := range ev.Upload.MetaData {
		if k != ownerKey {
			md[k] = v
		}
	}
	g := grantFrom(ev.Context)
	if g == nil {
		return md, nil
	}
	if g.Check != nil {
		size := ev.Upload.Size
		if ev.Upload.SizeIsDeferred {
			size = -1
		}
		if err := g.Check(ev.Context, size); err != nil {
			var ref *Refusal
			if errors.As(err, &ref) {
				return nil, tusError(ref.Status, ref.Code, ref.Message)
			}
			return nil, tusError(http.StatusInternalServerError, "internal", "the upload could not be checked")
		}
	}
	md[ownerKey] = g.Owner
	return md, nil
}

// Owner returns the owner recorded on an upload in progress (or staged
// after finishing), so the API can refuse a PATCH or DELETE by someone
// else.
func (h *Handler) Owner(ctx context.Context, id string) (string, error) {
	up, err := h.store.GetUpload(ctx, id)
	if err != nil {
		return "", err
	}
	info, err := up.GetInfo(ctx)
	if err != nil {
		return "", err
	}
	return info.MetaData[ownerKey], nil
}
