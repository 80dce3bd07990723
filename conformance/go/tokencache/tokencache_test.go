// The Go SDK's token cache seen through its own interface
// (lark.WithTokenCache). The option replaces the cache of the whole process,
// so these tests run in a test binary of their own.
package tokencache_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	lark "github.com/larksuite/oapi-sdk-go/v3"
	larkhelpdesk "github.com/larksuite/oapi-sdk-go/v3/service/helpdesk/v1"

	"helpdesk/conformance/go/harness"
)

var (
	server *harness.Server
	party  *harness.Party
)

func TestMain(m *testing.M) {
	harness.Main(m, func(s *harness.Server, w *harness.World) {
		server, party = s, w.A
	})
}

// recorder is a larkcore.Cache that keeps what the SDK stores, and for how long.
type recorder struct {
	mu      sync.Mutex
	entries map[string]entry
	sets    []set
}

type entry struct {
	value   string
	expires time.Time
}

type set struct {
	key, value string
	ttl        time.Duration
}

func (r *recorder) Set(_ context.Context, key, value string, ttl time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries[key] = entry{value, time.Now().Add(ttl)}
	r.sets = append(r.sets, set{key, value, ttl})
	return nil
}

func (r *recorder) Get(_ context.Context, key string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entries[key]; ok && e.expires.After(time.Now()) {
		return e.value, nil
	}
	return "", nil
}

func (r *recorder) forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.entries, key)
}

func (r *recorder) tokenSets(appID string) []set {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []set
	for _, s := range r.sets {
		if strings.Contains(s.key, appID) {
			out = append(out, s)
		}
	}
	return out
}

var cache = &recorder{entries: map[string]entry{}}

func getTicket(c *lark.Client, id string) (*larkhelpdesk.GetTicketResp, error) {
	return c.Helpdesk.V1.Ticket.Get(context.Background(),
		larkhelpdesk.NewGetTicketReqBuilder().TicketId(id).Build(), harness.Helpdesk())
}

// The SDK stores the tenant token for `expire` − 3 min (its expiryDelta),
// so any lifetime the server announces must stay well above 180 s.
func TestTheSDKCachesItsTokenForExpireLessThreeMinutes(t *testing.T) {
	c := server.Client(party, lark.WithTokenCache(cache))
	expire := harness.AnnouncedExpire(t, c, party)
	harness.StartService(t, c)
	sets := cache.tokenSets(party.AppID)
	if len(sets) != 1 || !strings.HasPrefix(sets[0].value, "t-") {
		t.Fatalf("the SDK stored %+v", sets)
	}
	want := time.Duration(expire-180) * time.Second
	if d := sets[0].ttl - want; d < -2*time.Second || d > 2*time.Second {
		t.Fatalf("cached for %s; expire was %d s, so want about %s", sets[0].ttl, expire, want)
	}
	if expire <= 600 {
		t.Fatalf("expire %d: SDKs cache for expire − 180 s (Go) or − 600 s (Python)", expire)
	}
}

// After `admin app revoke-tokens` the SDK only asks for a new token once its
// cache no longer gives it the old one: an app that owns the cache (through
// WithTokenCache) recovers by dropping the entry; the next call fetches a new
// token and succeeds.
func TestARevokedTokenIsReplacedOnceTheCacheForgetsIt(t *testing.T) {
	p, err := server.NewParty(party.TenantKey, party.HelpdeskID, party.HelpdeskToken)
	if err != nil {
		t.Fatal(err)
	}
	c := server.Client(p, lark.WithTokenCache(cache))
	ticketID := harness.StartService(t, c)
	server.MustAdmin(t, "app", "revoke-tokens", "--app", p.AppID)
	resp, err := getTicket(c, ticketID)
	if err != nil || resp.Code != 99991663 || resp.StatusCode != 400 {
		t.Fatalf("after the revoke: %v %+v", err, resp)
	}
	sets := cache.tokenSets(p.AppID)
	if len(sets) != 1 {
		t.Fatalf("the SDK stored %d tokens, want 1 (it never drops one on 99991663)", len(sets))
	}
	before := server.TokenRequests()
	cache.forget(sets[0].key)
	resp, err = getTicket(c, ticketID)
	if err != nil || !resp.Success() {
		t.Fatalf("after dropping the token: %v %+v", err, resp)
	}
	if n := server.TokenRequests() - before; n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
	if sets = cache.tokenSets(p.AppID); len(sets) != 2 || sets[1].value == sets[0].value {
		t.Fatal("the SDK did not store a new token")
	}
}
