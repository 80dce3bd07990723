// Package harness runs the real helpdesk binary on an ephemeral port over a
// fresh data dir, provisions it through `helpdesk admin` as an operator
// would, and builds official Go SDK clients against it.
package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	lark "github.com/larksuite/oapi-sdk-go/v3"
	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkauth "github.com/larksuite/oapi-sdk-go/v3/service/auth/v3"
	larkhelpdesk "github.com/larksuite/oapi-sdk-go/v3/service/helpdesk/v1"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"
)

var (
	// Root is the repository's root.
	Root = func() string {
		_, file, _, _ := runtime.Caller(0)
		return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
	}()
	// Bin is the server binary under test.
	Bin = func() string {
		if b := os.Getenv("HELPDESK_BIN"); b != "" {
			return b
		}
		return filepath.Join(Root, "target", "debug", "helpdesk")
	}()
	// DemoImages holds the demo's screenshots.
	DemoImages = filepath.Join(Root, "crates", "helpdesk-cli", "demo")
	// ImageNames are the demo images, in the order the ticket fixture posts them.
	ImageNames = []string{"login-error.png", "step-1.png", "step-2.jpg", "step-3.webp"}
	// LogID is what a Feishu log id looks like.
	LogID = regexp.MustCompile(`^\d{14}[0-9A-F]{20}$`)
)

// LogIDIn tells whether text has a log id between before and after.
func LogIDIn(text, before, after string) bool {
	i := strings.Index(text, before)
	if i < 0 {
		return false
	}
	rest := text[i+len(before):]
	j := strings.Index(rest, after)
	return j >= 0 && LogID.MatchString(rest[:j])
}

// Images are the demo images' bytes, in ImageNames' order.
func Images() [][]byte {
	out := make([][]byte, len(ImageNames))
	for i, n := range ImageNames {
		b, err := os.ReadFile(filepath.Join(DemoImages, n))
		if err != nil {
			panic(err)
		}
		out[i] = b
	}
	return out
}

// Server is one `helpdesk serve` process.
type Server struct {
	DataDir string
	LogPath string
	Port    int
	Base    string
	Extra   []string // more `serve` flags
	cmd     *exec.Cmd
	exited  chan error
}

// NewServer makes a fresh data dir; Start runs the server on it.
func NewServer(extra ...string) (*Server, error) {
	d, err := os.MkdirTemp("", "helpdesk-go-")
	if err != nil {
		return nil, err
	}
	return &Server{DataDir: d, LogPath: filepath.Join(d, "server.log"), Extra: extra}, nil
}

// Start runs `helpdesk serve` (on the port it had before, if any) and waits
// for its "helpdesk listening on" line. The environment passes through, so
// HELPDESK_DATABASE_URL and HELPDESK_BLOB_URL choose the backends when set.
func (s *Server) Start() error {
	log, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	args := append([]string{"serve", "--data-dir", s.DataDir, "--listen", fmt.Sprintf("127.0.0.1:%d", s.Port)}, s.Extra...)
	cmd := exec.Command(Bin, args...)
	dieWithParent(cmd)
	cmd.Stderr = log
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	log.Close()
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		line := lines.Text()
		if strings.HasPrefix(line, "helpdesk listening on ") {
			fields := strings.Fields(line)
			s.Base = fields[len(fields)-1]
			s.Port, _ = strconv.Atoi(s.Base[strings.LastIndex(s.Base, ":")+1:])
			s.cmd = cmd
			s.exited = make(chan error, 1)
			go func() {
				_, _ = io.Copy(io.Discard, out)
				s.exited <- cmd.Wait()
			}()
			return nil
		}
	}
	_ = cmd.Wait()
	return fmt.Errorf("helpdesk serve exited before listening; see %s", s.LogPath)
}

// Stop sends SIGTERM and expects a clean exit.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		err = fmt.Errorf("helpdesk serve did not stop within 30 s")
	}
	s.cmd = nil
	if err != nil {
		return fmt.Errorf("helpdesk serve: %v; see %s", err, s.LogPath)
	}
	return nil
}

// Restart stops and starts again on the same port and data dir.
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.Start()
}

// Close stops the server and removes its data dir.
func (s *Server) Close() error {
	err := s.Stop()
	_ = os.RemoveAll(s.DataDir)
	return err
}

// Admin runs `helpdesk admin --data-dir D ARGS...` and parses its JSON.
func (s *Server) Admin(args ...string) (map[string]interface{}, error) {
	cmd := exec.Command(Bin, append([]string{"admin", "--data-dir", s.DataDir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("helpdesk admin %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	var v map[string]interface{}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("helpdesk admin %s printed %q: %v", strings.Join(args, " "), out, err)
	}
	return v, nil
}

// MustAdmin is Admin, failing the test on error.
func (s *Server) MustAdmin(t testing.TB, args ...string) map[string]interface{} {
	t.Helper()
	v, err := s.Admin(args...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Requests counts the access-log lines for path whose text holds every one
// of also (e.g. "code=99991663").
func (s *Server) Requests(path string, also ...string) int {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, " path="+path+" ") {
			continue
		}
		ok := true
		for _, a := range also {
			ok = ok && strings.Contains(line, a)
		}
		if ok {
			n++
		}
	}
	return n
}

// TokenPath is where the SDK asks for a self-built app's tenant token.
const TokenPath = "/open-apis/auth/v3/tenant_access_token/internal"

// TokenRequests counts the token requests the server has logged so far.
func (s *Server) TokenRequests() int { return s.Requests(TokenPath) }

// Party is an app and the helpdesk it calls with.
type Party struct {
	TenantKey     string
	AppID         string
	AppSecret     string
	HelpdeskID    string
	HelpdeskToken string
}

// NewParty creates an app on the tenant (extra: `app create` flags).
func (s *Server) NewParty(tenantKey, helpdeskID, helpdeskToken string, extra ...string) (*Party, error) {
	app, err := s.Admin(append([]string{"app", "create", "--tenant", tenantKey, "--name", "conformance"}, extra...)...)
	if err != nil {
		return nil, err
	}
	return &Party{
		TenantKey:     tenantKey,
		AppID:         app["app_id"].(string),
		AppSecret:     app["app_secret"].(string),
		HelpdeskID:    helpdeskID,
		HelpdeskToken: helpdeskToken,
	}, nil
}

// World is tenants A and B, each with a custom app and a helpdesk; A also has
// a store app and an app without a helpdesk scope.
type World struct {
	A, B, AStore, ANoHelpdeskScope *Party
}

// Main is a suite package's TestMain: it starts a server, provisions a
// world (handing both to `use` before any test runs), runs the package's
// tests, stops the server, and exits with the tests' status.
func Main(m *testing.M, use func(*Server, *World)) {
	os.Exit(runSuite(m, use))
}

func runSuite(m *testing.M, use func(*Server, *World)) int {
	s, err := NewServer()
	if err == nil {
		err = s.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := 1
	if world, err := s.Provision(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		use(s, world)
		code = m.Run()
	}
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	return code
}

// Provision makes the World.
func (s *Server) Provision() (*World, error) {
	type tenant struct{ key, id, token string }
	ts := map[string]tenant{}
	for _, name := range []string{"A", "B"} {
		t, err := s.Admin("tenant", "create", "--name", name)
		if err != nil {
			return nil, err
		}
		key := t["tenant_key"].(string)
		h, err := s.Admin("helpdesk", "create", "--tenant", key, "--name", name)
		if err != nil {
			return nil, err
		}
		ts[name] = tenant{key, h["helpdesk_id"].(string), h["helpdesk_token"].(string)}
	}
	w := &World{}
	var err error
	party := func(t tenant, extra ...string) *Party {
		if err != nil {
			return nil
		}
		var p *Party
		p, err = s.NewParty(t.key, t.id, t.token, extra...)
		return p
	}
	w.A = party(ts["A"])
	w.B = party(ts["B"])
	w.AStore = party(ts["A"], "--kind", "store")
	w.ANoHelpdeskScope = party(ts["A"], "--scope", "im:resource")
	return w, err
}

// quiet drops the SDK's log lines: the assertions speak for themselves.
type quiet struct{}

func (quiet) Debug(context.Context, ...interface{}) {}
func (quiet) Info(context.Context, ...interface{})  {}
func (quiet) Warn(context.Context, ...interface{})  {}
func (quiet) Error(context.Context, ...interface{}) {}

// Quiet is a larkcore.Logger that prints nothing.
var Quiet larkcore.Logger = quiet{}

// Client is an SDK client of p against this server, the helpdesk credential
// set as the SDK takes it.
func (s *Server) Client(p *Party, options ...lark.ClientOptionFunc) *lark.Client {
	return lark.NewClient(p.AppID, p.AppSecret, append([]lark.ClientOptionFunc{
		lark.WithOpenBaseUrl(s.Base),
		lark.WithHelpdeskCredential(p.HelpdeskID, p.HelpdeskToken),
		lark.WithLogger(Quiet),
		lark.WithReqTimeout(30 * time.Second),
	}, options...)...)
}

// Helpdesk is the per-request option every helpdesk v1 call needs: without
// it the SDK sends no X-Lark-Helpdesk-Authorization.
var Helpdesk = larkcore.WithNeedHelpDeskAuth

var ctx = context.Background()

// Upload posts data as a message image through im/v1/images.
func Upload(t testing.TB, c *lark.Client, data io.Reader) string {
	t.Helper()
	req := larkim.NewCreateImageReqBuilder().Body(
		larkim.NewCreateImageReqBodyBuilder().ImageType("message").Image(data).Build(),
	).Build()
	resp, err := c.Im.V1.Image.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Success() {
		t.Fatalf("upload: %d %s", resp.Code, resp.Msg)
	}
	return *resp.Data.ImageKey
}

// StartService opens a ticket for guest ou_conformance.
func StartService(t testing.TB, c *lark.Client) string {
	t.Helper()
	req := larkhelpdesk.NewStartServiceTicketReqBuilder().Body(
		larkhelpdesk.NewStartServiceTicketReqBodyBuilder().HumanService(true).OpenId("ou_conformance").Build(),
	).Build()
	resp, err := c.Helpdesk.V1.Ticket.StartService(ctx, req, Helpdesk())
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Success() {
		t.Fatalf("start_service: %d %s", resp.Code, resp.Msg)
	}
	if resp.Data.ChatId == nil || *resp.Data.ChatId == "" {
		t.Fatal("start_service gave no chat_id")
	}
	return *resp.Data.TicketId
}

// Post creates a ticket message; content is JSON-encoded into a string.
func Post(t testing.TB, c *lark.Client, ticketID, msgType string, content interface{}) string {
	t.Helper()
	b, _ := json.Marshal(content)
	req := larkhelpdesk.NewCreateTicketMessageReqBuilder().TicketId(ticketID).Body(
		larkhelpdesk.NewCreateTicketMessageReqBodyBuilder().MsgType(msgType).Content(string(b)).Build(),
	).Build()
	resp, err := c.Helpdesk.V1.TicketMessage.Create(ctx, req, Helpdesk())
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Success() {
		t.Fatalf("create message: %d %s", resp.Code, resp.Msg)
	}
	return *resp.Data.MessageId
}

// List lists a ticket's messages, page 1 of 50.
func List(t testing.TB, c *lark.Client, ticketID string) *larkhelpdesk.ListTicketMessageRespData {
	t.Helper()
	req := larkhelpdesk.NewListTicketMessageReqBuilder().TicketId(ticketID).Page(1).PageSize(50).Build()
	resp, err := c.Helpdesk.V1.TicketMessage.List(ctx, req, Helpdesk())
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Success() {
		t.Fatalf("list messages: %d %s", resp.Code, resp.Msg)
	}
	return resp.Data
}

// Image calls ticket_image through the SDK; a nil index leaves it out.
func Image(c *lark.Client, ticketID, msgID string, index *int, options ...larkcore.RequestOptionFunc) (*larkhelpdesk.TicketImageTicketResp, error) {
	b := larkhelpdesk.NewTicketImageTicketReqBuilder().TicketId(ticketID).MsgId(msgID)
	if index != nil {
		b = b.Index(*index)
	}
	return c.Helpdesk.V1.Ticket.TicketImage(ctx, b.Build(), append([]larkcore.RequestOptionFunc{Helpdesk()}, options...)...)
}

// Index is a pointer to i, for Image.
func Index(i int) *int { return &i }

// Ticket is a ticket with a text, an image and a post message (three images).
type Ticket struct {
	ID       string
	Keys     []string
	Messages map[string]*larkhelpdesk.TicketMessage // by message_type
}

// MakeTicket uploads the demo images and posts them, all through the SDK.
func MakeTicket(t testing.TB, c *lark.Client) *Ticket {
	t.Helper()
	var keys []string
	for _, data := range Images() {
		keys = append(keys, Upload(t, c, bytes.NewReader(data)))
	}
	id := StartService(t, c)
	Post(t, c, id, "text", map[string]string{"text": "hello"})
	Post(t, c, id, "image", map[string]string{"image_key": keys[0]})
	Post(t, c, id, "post", PostContent(keys[1:]))
	msgs := map[string]*larkhelpdesk.TicketMessage{}
	for _, m := range List(t, c, id).Messages {
		msgs[*m.MessageType] = m
	}
	return &Ticket{ID: id, Keys: keys, Messages: msgs}
}

// PostContent is a rich-text post: a line of text, then one image a line.
func PostContent(keys []string) interface{} {
	paragraphs := [][]map[string]string{{{"tag": "text", "text": "steps"}}}
	for _, k := range keys {
		paragraphs = append(paragraphs, []map[string]string{{"tag": "img", "image_key": k}})
	}
	return map[string]interface{}{"zh_cn": map[string]interface{}{"title": "export fails", "content": paragraphs}}
}

// AnnouncedExpire is the `expire` of a token request made now, through the
// SDK's token API (which does not touch the cache).
func AnnouncedExpire(t testing.TB, c *lark.Client, p *Party) int {
	t.Helper()
	raw, err := c.Auth.V3.TenantAccessToken.Internal(context.Background(),
		larkauth.NewInternalTenantAccessTokenReqBuilder().Body(
			larkauth.NewInternalTenantAccessTokenReqBodyBuilder().AppId(p.AppID).AppSecret(p.AppSecret).Build(),
		).Build())
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Code   int    `json:"code"`
		Token  string `json:"tenant_access_token"`
		Expire int    `json:"expire"`
	}
	if err := json.Unmarshal(raw.RawBody, &body); err != nil || body.Code != 0 || !strings.HasPrefix(body.Token, "t-") {
		t.Fatalf("token: %v %s", err, raw.RawBody)
	}
	return body.Expire
}
