package access

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stratavideo/strata/cluster/mediatoken"
	"github.com/stratavideo/strata/cluster/model"
)

type ring struct{ r *model.SigningKeys }

func (r ring) SigningKeys() (*model.SigningKeys, error) { return r.r, nil }

func TestSignedTokensGate(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	k := mediatoken.NewKey()
	keys := &model.SigningKeys{Current: k.ID, Keys: []model.SigningKey{k}}
	vs := &videos{m: map[string]model.Video{}}
	vs.set("priv", model.StatusReady, model.Private)
	vs.set("other", model.StatusReady, model.Private)
	st := NewSignedTokens(ring{keys})
	st.V.Now = func() time.Time { return now }
	g := NewGate(vs, st)
	valid, _ := mediatoken.Sign(keys, "priv", now.Add(time.Hour))
	otherVideo, _ := mediatoken.Sign(keys, "other", now.Add(time.Hour))
	expired, _ := mediatoken.Sign(keys, "priv", now.Add(-time.Second))
	for _, tc := range []struct {
		name, token string
		want        Decision
	}{
		{"valid", valid, Allow},
		{"none", "", Forbidden},
		{"another video's", otherVideo, Forbidden},
		{"expired", expired, Forbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/media/priv/master.m3u8?token="+url.QueryEscape(tc.token), nil)
			if got, err := g.Check(r, "priv"); err != nil || got != tc.want {
				t.Fatalf("Check = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
