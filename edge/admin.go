package edge

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/stratavideo/strata/cluster"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI is the purge API on Caddy's admin endpoint (local by default,
// like the rest of the admin API), for operators and scripts:
//
//	POST /strata/edge/purge/{videoID}         every object of a video
//	POST /strata/edge/purge/{videoID}/{file}  one object
//
// It purges this node's cache only; deletes and visibility changes reach
// every edge through the cluster log without it.
type adminAPI struct {
	// cache finds the cache to purge; tests set it, Caddy leaves it nil
	// and the running config's edge role is used.
	cache func() (purger, error)
}

// purger is what the API needs of the cache.
type purger interface {
	PurgeVideo(video string)
	PurgeKey(video, key string)
}

// CaddyModule returns the Caddy module information.
func (adminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.strata_edge",
		New: func() caddy.Module { return new(adminAPI) },
	}
}

// Routes implements caddy.AdminRouter.
func (a adminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: "/strata/edge/purge/", Handler: caddy.AdminHandlerFunc(a.purge)}}
}

func (a adminAPI) purge(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("use POST")}
	}
	rest := strings.TrimPrefix(r.URL.Path, "/strata/edge/purge/")
	id, file, _ := strings.Cut(rest, "/")
	if !safeName(id) {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("bad video ID %q", id)}
	}
	key := ""
	if file != "" {
		key = "/media/" + id + "/" + file
		if _, _, ok := splitPath(key); !ok {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("bad media file %q", file)}
		}
	}
	find := a.cache
	if find == nil {
		find = activeCache
	}
	c, err := find()
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: err}
	}
	if key == "" {
		c.PurgeVideo(id)
	} else {
		c.PurgeKey(id, key)
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]string{"purged": strings.TrimSuffix("/media/"+id+"/"+file, "/")})
}

// activeCache is the running config's edge cache.
func activeCache() (purger, error) {
	v, err := caddy.ActiveContext().AppIfConfigured("strata")
	if err != nil {
		return nil, fmt.Errorf("no strata app is running: %w", err)
	}
	app, ok := v.(*cluster.App)
	if !ok {
		return nil, errors.New("no strata app is running")
	}
	role, ok := app.Role("edge").(*Role)
	if !ok {
		return nil, errors.New("this node has no edge role")
	}
	c := role.Cache()
	if c == nil {
		return nil, errors.New("the edge role is not running")
	}
	return c, nil
}

// Interface guard
var _ caddy.AdminRouter = adminAPI{}
