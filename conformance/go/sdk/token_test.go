package sdk_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	lark "github.com/larksuite/oapi-sdk-go/v3"
	larkhelpdesk "github.com/larksuite/oapi-sdk-go/v3/service/helpdesk/v1"

	"helpdesk/conformance/go/harness"
)

func getTicket(t *testing.T, c *lark.Client, id string) *larkhelpdesk.TicketV2 {
	t.Helper()
	resp, err := c.Helpdesk.V1.Ticket.Get(context.Background(),
		larkhelpdesk.NewGetTicketReqBuilder().TicketId(id).Build(), harness.Helpdesk())
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Success() {
		t.Fatalf("ticket get: HTTP %d code %d %s", resp.StatusCode, resp.Code, resp.Msg)
	}
	return resp.Data.Ticket
}

// A party of its own on tenant A's helpdesk, for tests that change its tokens.
func ownParty(t *testing.T, s *harness.Server) *harness.Party {
	t.Helper()
	p, err := s.NewParty(world.A.TenantKey, world.A.HelpdeskID, world.A.HelpdeskToken)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTheSDKFetchesAndCachesItsOwnToken(t *testing.T) {
	c := server.Client(world.B)
	before := server.TokenRequests()
	ticketID := harness.StartService(t, c)
	for i := 0; i < 3; i++ {
		getTicket(t, c, ticketID)
	}
	if n := server.TokenRequests() - before; n != 1 {
		t.Fatalf("%d token requests for four calls, want 1", n)
	}
	// The cache is the process's, keyed by app id and secret: a second
	// client of the same app asks for no token either.
	getTicket(t, server.Client(world.B), ticketID)
	if n := server.TokenRequests() - before; n != 1 {
		t.Fatalf("%d token requests after a second client, want 1", n)
	}
}

func TestTheCachedTokenSurvivesAServerRestart(t *testing.T) {
	tk := theTicket(t)
	c := server.Client(world.A)
	msg := *tk.Messages["image"].Id
	if resp, err := harness.Image(c, tk.ID, msg, nil); err != nil || !resp.Success() {
		t.Fatalf("before the restart: %v %+v", err, resp)
	}
	if err := server.Restart(); err != nil {
		t.Fatal(err)
	}
	before := server.TokenRequests()
	resp, err := harness.Image(c, tk.ID, msg, nil)
	if err != nil || !resp.Success() {
		t.Fatalf("after the restart: %v %+v", err, resp)
	}
	sameBytes(t, "after the restart", resp.File.(interface{ Bytes() []byte }).Bytes(), images[0])
	if server.TokenRequests() != before {
		t.Fatal("the SDK asked for a new token: the server refused the one it cached")
	}
}

// After `admin app revoke-tokens` the SDK's cached token is refused with
// 99991663. The SDK retries once with the same token and hands the error to
// the caller; it never drops the token, so every call of the process fails
// until the cache entry's own expiry (expire − 3 min after it was fetched).
func TestARevokedTokenStaysInTheSDKsCacheAndEveryCallFails(t *testing.T) {
	tk := theTicket(t)
	p := ownParty(t, server)
	c := server.Client(p)
	msg := *tk.Messages["image"].Id
	if resp, err := harness.Image(c, tk.ID, msg, nil); err != nil || !resp.Success() {
		t.Fatalf("before the revoke: %v %+v", err, resp)
	}
	server.MustAdmin(t, "app", "revoke-tokens", "--app", p.AppID)
	tokens := server.TokenRequests()
	for i, client := range []*lark.Client{c, server.Client(p)} {
		refused := server.Requests("/open-apis/helpdesk/v1/ticket_images", "code=99991663")
		resp, err := harness.Image(client, tk.ID, msg, nil)
		assertError(t, resp, err, badToken)
		if n := server.Requests("/open-apis/helpdesk/v1/ticket_images", "code=99991663") - refused; n != 2 {
			t.Fatalf("call %d: %d requests refused, want 2 (the call and its one retry)", i, n)
		}
	}
	if server.TokenRequests() != tokens {
		t.Fatal("the SDK asked for a new token")
	}
}

func serveHas(flag string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, harness.Bin, "serve", "--help").Output()
	return strings.Contains(string(out), flag)
}

// The SDK keeps a token for `expire` − 180 s and fetches a new one on the
// first call after that (no refresh ahead, no retry on its own). With
// `serve --token-lifetime 184` the cache entry lives 4 s.
func TestTheSDKFetchesANewTokenOnceItsCachedOneIsDue(t *testing.T) {
	if !serveHas("--token-lifetime") {
		t.Skip("needs `helpdesk serve --token-lifetime SECONDS`")
	}
	s, err := harness.NewServer("--token-lifetime", "184")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := s.MustAdmin(t, "tenant", "create", "--name", "expiry")["tenant_key"].(string)
	h := s.MustAdmin(t, "helpdesk", "create", "--tenant", key, "--name", "expiry")
	p, err := s.NewParty(key, h["helpdesk_id"].(string), h["helpdesk_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Client(p)

	// What the server announces, read through the SDK's own token API.
	expire := harness.AnnouncedExpire(t, c, p)
	if expire < 181 || expire > 184 {
		t.Fatalf("expire %d with --token-lifetime 184", expire)
	}

	before := s.TokenRequests()
	fetched := time.Now()
	ticketID := harness.StartService(t, c)
	getTicket(t, c, ticketID)
	if n := s.TokenRequests() - before; n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
	due := fetched.Add(time.Duration(expire-180) * time.Second)
	time.Sleep(time.Until(due) + 500*time.Millisecond)
	getTicket(t, c, ticketID)
	if n := s.TokenRequests() - before; n != 2 {
		t.Fatalf("%d token requests once the cached token was due, want 2", n)
	}
}
