// Package web holds the Strata browser UI, built from web/src by
// `cd web && npm ci && npm run build` into web/dist and embedded into the
// binary.
//
// Dist contains the files under the "dist/" prefix: dist/index.html (the
// single-page app shell, also the fallback for unknown non-API paths) and
// dist/assets/* (content-hashed JS, CSS, SVG and the hls.js worker, safe to
// cache forever). Use fs.Sub(web.Dist, "dist") to serve it at the site root.
package web

import "embed"

// Dist is the built UI (see the package doc).
//
//go:embed all:dist
var Dist embed.FS
