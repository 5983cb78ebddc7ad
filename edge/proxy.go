package edge

import (
	"encoding/json"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// proxyDefaults makes a reverse_proxy fit for cache fills unless its
// configuration says otherwise:
//
//   - passive health checks: an origin that fails to connect or answers
//     5xx is out for 10 s, so the retry and the next fills go elsewhere;
//   - retries: a failed GET (connection refused, reset, or a 5xx answer)
//     is tried once more on each other upstream.
//
// Active health checks stay opt-in (health_uri), since only the operator
// knows what a healthy origin answers where.
func proxyDefaults(rp *reverseproxy.Handler) {
	if rp.HealthChecks == nil {
		rp.HealthChecks = &reverseproxy.HealthChecks{}
	}
	if rp.HealthChecks.Passive == nil {
		rp.HealthChecks.Passive = &reverseproxy.PassiveHealthChecks{
			FailDuration:    caddy.Duration(10 * time.Second),
			MaxFails:        1,
			UnhealthyStatus: []int{5}, // the class 5xx
		}
	}
	if rp.LoadBalancing == nil {
		rp.LoadBalancing = &reverseproxy.LoadBalancing{}
	}
	lb := rp.LoadBalancing
	if lb.Retries == 0 && lb.TryDuration == 0 {
		lb.Retries = max(len(rp.Upstreams)-1, 0)
	}
	if lb.RetryMatchRaw == nil {
		// Any GET after a transport error, and any response of 500 or
		// more: the fill wants the object from whichever origin has it.
		lb.RetryMatchRaw = caddyhttp.RawMatcherSets{
			caddy.ModuleMap{"method": json.RawMessage(`["GET"]`)},
			caddy.ModuleMap{"expression": json.RawMessage(`"{http.reverse_proxy.status_code} >= 500"`)},
		}
	}
}
