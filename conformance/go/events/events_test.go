// Helpdesk events through the official Go SDK: its EventDispatcher (with an
// encrypt key and a verification token), behind a net/http server of the
// suite's own through the SDK's httpserverext, passes URL verification,
// receives both events through its typed handlers, and the message handler
// fetches every image the event names through the same SDK's TicketImage.
package events_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	lark "github.com/larksuite/oapi-sdk-go/v3"
	"github.com/larksuite/oapi-sdk-go/v3/core/httpserverext"
	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher"
	larkhelpdesk "github.com/larksuite/oapi-sdk-go/v3/service/helpdesk/v1"

	"helpdesk/conformance/go/harness"
)

const (
	encryptKey        = "go conformance key"
	verificationToken = "go conformance token"
)

var (
	server *harness.Server
	world  *harness.World
	images = harness.Images()
)

func TestMain(m *testing.M) {
	harness.Main(m, func(s *harness.Server, w *harness.World) {
		server, world = s, w
	})
}

// receiver is the SDK's dispatcher behind net/http, as an app would run it.
type receiver struct {
	c     *lark.Client
	url   string
	srv   *http.Server
	mu    sync.Mutex
	tks   []*larkhelpdesk.P2TicketCreatedV1
	msgs  []*larkhelpdesk.P2TicketMessageCreatedV1
	imgs  map[string][][]byte // message_id -> images
	fails []error
	log   errorLog // what the dispatcher logged as errors
}

// errorLog keeps the dispatcher's error lines (why it answered 500).
type errorLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *errorLog) Debug(context.Context, ...interface{}) {}
func (l *errorLog) Info(context.Context, ...interface{})  {}
func (l *errorLog) Warn(context.Context, ...interface{})  {}
func (l *errorLog) Error(_ context.Context, args ...interface{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprint(args...))
}

func (l *errorLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return "the dispatcher logged no error"
	}
	return "the dispatcher logged: " + strings.Join(l.lines, "; ")
}

func newReceiver(t *testing.T, c *lark.Client, token, key string) *receiver {
	t.Helper()
	r := &receiver{c: c, imgs: map[string][][]byte{}}
	d := dispatcher.NewEventDispatcher(token, key).
		OnP2TicketCreatedV1(func(_ context.Context, ev *larkhelpdesk.P2TicketCreatedV1) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.tks = append(r.tks, ev)
			return nil
		}).
		OnP2TicketMessageCreatedV1(r.onMessage)
	mux := http.NewServeMux()
	mux.HandleFunc("/webhook/event", httpserverext.NewEventHandlerFunc(d, larkevent.WithLogger(&r.log)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.srv = &http.Server{Handler: mux}
	go r.srv.Serve(ln)
	t.Cleanup(func() { r.srv.Close() })
	r.url = fmt.Sprintf("http://%s/webhook/event", ln.Addr())
	return r
}

func (r *receiver) onMessage(_ context.Context, ev *larkhelpdesk.P2TicketMessageCreatedV1) error {
	e := ev.Event
	var indexes []*int
	switch *e.MsgType {
	case "image":
		indexes = []*int{nil}
	case "post":
		for i := range e.Content.ImageKeys {
			indexes = append(indexes, harness.Index(i))
		}
	}
	var got [][]byte
	for _, index := range indexes {
		resp, err := harness.Image(r.c, *e.Ticket.TicketId, *e.MessageId, index)
		if err == nil && !resp.Success() {
			err = fmt.Errorf("ticket_image %s: HTTP %d code %d %s", *e.MessageId, resp.StatusCode, resp.Code, resp.Msg)
		}
		if err != nil {
			r.mu.Lock()
			r.fails = append(r.fails, err)
			r.mu.Unlock()
			return err
		}
		got = append(got, resp.File.(*bytes.Buffer).Bytes())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.imgs[*e.MessageId] = got
	r.msgs = append(r.msgs, ev)
	return nil
}

// waitTickets until the receiver holds n ticket events, or within.
func (r *receiver) waitTickets(n int, within time.Duration) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		got := len(r.tks)
		r.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wait until the receiver holds n message events (or handler failures), or within.
func (r *receiver) wait(n int, within time.Duration) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		got := len(r.msgs) + len(r.fails)
		r.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var events = [][2]string{{"helpdesk.ticket", "ticket.created_v1"}, {"helpdesk.ticket_message", "ticket_message.created_v1"}}

func subscription(t *testing.T, c *lark.Client, subscribe bool) {
	t.Helper()
	var es []*larkhelpdesk.Event
	for _, e := range events {
		es = append(es, larkhelpdesk.NewEventBuilder().Type(e[0]).Subtype(e[1]).Build())
	}
	var code int
	var msg string
	var err error
	if subscribe {
		var resp *larkhelpdesk.SubscribeEventResp
		resp, err = c.Helpdesk.V1.Event.Subscribe(context.Background(), larkhelpdesk.NewSubscribeEventReqBuilder().Body(
			larkhelpdesk.NewSubscribeEventReqBodyBuilder().Events(es).Build()).Build(), harness.Helpdesk())
		if err == nil {
			code, msg = resp.Code, resp.Msg
		}
	} else {
		var resp *larkhelpdesk.UnsubscribeEventResp
		resp, err = c.Helpdesk.V1.Event.Unsubscribe(context.Background(), larkhelpdesk.NewUnsubscribeEventReqBuilder().Body(
			larkhelpdesk.NewUnsubscribeEventReqBodyBuilder().Events(es).Build()).Build(), harness.Helpdesk())
		if err == nil {
			code, msg = resp.Code, resp.Msg
		}
	}
	if err != nil || code != 0 {
		t.Fatalf("subscribe=%v: %v %d %s", subscribe, err, code, msg)
	}
}

// A party of its own on tenant A's helpdesk, registered at r's URL (which
// first answers url_verification), so that other tests' tickets are not sent
// to a receiver that is gone.
func register(t *testing.T) (*harness.Party, *lark.Client, *receiver) {
	t.Helper()
	p, err := server.NewParty(world.A.TenantKey, world.A.HelpdeskID, world.A.HelpdeskToken)
	if err != nil {
		t.Fatal(err)
	}
	c := server.Client(p)
	r := newReceiver(t, c, verificationToken, encryptKey)
	out := server.MustAdmin(t, "app", "events", "--app", p.AppID, "--url", r.url,
		"--encrypt-key", encryptKey, "--verification-token", verificationToken)
	if out["encrypted"] != true || out["url"] != r.url {
		t.Fatalf("app events printed %v", out)
	}
	t.Cleanup(func() { _, _ = server.Admin("app", "events", "--app", p.AppID, "--url", "") })
	return p, c, r
}

func TestTheEventDispatcherGetsBothEventsAndFetchesEveryImage(t *testing.T) {
	p, c, r := register(t)
	subscription(t, c, true)
	defer subscription(t, c, false)

	var keys []string
	for _, data := range images {
		keys = append(keys, harness.Upload(t, c, bytes.NewReader(data)))
	}
	ticketID := harness.StartService(t, c)
	harness.Post(t, c, ticketID, "text", map[string]string{"text": "hello"})
	imageMsg := harness.Post(t, c, ticketID, "image", map[string]string{"image_key": keys[0]})
	postMsg := harness.Post(t, c, ticketID, "post", harness.PostContent(keys[1:]))

	r.wait(3, 15*time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.fails) > 0 {
		t.Fatalf("the message handler failed: %v", r.fails)
	}
	if len(r.tks) != 1 || len(r.msgs) != 3 {
		t.Fatalf("%d ticket events and %d message events, want 1 and 3; %s", len(r.tks), len(r.msgs), &r.log)
	}

	created := r.tks[0]
	h := created.EventV2Base.Header
	if created.Schema != "2.0" || h.EventType != "helpdesk.ticket.created_v1" || h.AppID != p.AppID || h.TenantKey != p.TenantKey || h.Token != verificationToken {
		t.Fatalf("ticket event: schema %q, header %+v", created.Schema, h)
	}
	if *created.Event.TicketId != ticketID || *created.Event.Guest.Id.OpenId != "ou_conformance" {
		t.Fatalf("ticket event %+v", created.Event)
	}

	var kinds []string
	ids := map[string]bool{h.EventID: true}
	for _, m := range r.msgs {
		kinds = append(kinds, *m.Event.MsgType)
		ids[m.EventV2Base.Header.EventID] = true
		if m.EventV2Base.Header.EventType != "helpdesk.ticket_message.created_v1" || *m.Event.Ticket.TicketId != ticketID {
			t.Fatalf("message event header %+v, ticket %v", m.EventV2Base.Header, m.Event.Ticket.TicketId)
		}
	}
	if strings.Join(kinds, ",") != "text,image,post" {
		t.Fatalf("message events %v", kinds)
	}
	if len(ids) != 4 {
		t.Fatalf("%d distinct event ids for 4 events", len(ids))
	}
	if *r.msgs[0].Event.Text != "hello" {
		t.Fatalf("text %q", *r.msgs[0].Event.Text)
	}
	if *r.msgs[1].Event.Content.ImageKey != keys[0] || !reflect.DeepEqual(r.msgs[2].Event.Content.ImageKeys, keys[1:]) {
		t.Fatalf("content %+v and %+v", r.msgs[1].Event.Content, r.msgs[2].Event.Content)
	}
	if !reflect.DeepEqual(r.imgs[imageMsg], images[:1]) || !reflect.DeepEqual(r.imgs[postMsg], images[1:]) {
		t.Fatalf("the handler fetched %d and %d images, not the ones posted", len(r.imgs[imageMsg]), len(r.imgs[postMsg]))
	}
}

func TestAfterUnsubscribingNoEventsCome(t *testing.T) {
	_, c, r := register(t)
	subscription(t, c, true)
	harness.StartService(t, c)
	r.waitTickets(1, 15*time.Second)
	subscription(t, c, false)
	harness.StartService(t, c)
	time.Sleep(2 * time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.tks) != 1 {
		t.Fatalf("%d ticket events, want the 1 made while subscribed; %s", len(r.tks), &r.log)
	}
}

// The dispatcher answers url_verification only with the verification token
// it was made with, and decrypts only with its key: `app events` refuses a
// URL whose receiver disagrees on either.
func TestADispatcherWithAnotherTokenOrKeyFailsURLVerification(t *testing.T) {
	for _, c := range []struct{ name, token, key string }{
		{"another verification token", "another token", encryptKey},
		{"another encrypt key", verificationToken, "another key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newReceiver(t, server.Client(world.A), c.token, c.key)
			cmd := exec.Command(harness.Bin, "admin", "--data-dir", server.DataDir, "app", "events", "--app", world.A.AppID,
				"--url", r.url, "--encrypt-key", encryptKey, "--verification-token", verificationToken)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "did not return the challenge") {
				t.Fatalf("app events: %v: %s", err, out)
			}
		})
	}
}
