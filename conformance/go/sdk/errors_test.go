package sdk_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkhelpdesk "github.com/larksuite/oapi-sdk-go/v3/service/helpdesk/v1"

	"helpdesk/conformance/go/harness"
)

type row struct {
	status, code int
	msg          string
}

var (
	badRequest = row{400, 154000, "Bad request, please check your request body"}
	forbidden  = row{403, 154003, "Please check you have the correct access"}
	notFound   = row{404, 154004, "Resource not found"}
	deleted    = row{401, 154404, "Image might be deleted"}
	internal   = row{500, 155000, "Internal error"}
	noScope    = row{400, 99991672, "Access denied. One of the following scopes is required: [helpdesk:all:readonly, helpdesk:all]"}
	badToken   = row{400, 99991663, "Invalid access token for authorization. Please make a request with token attached."}
)

// assertError checks an error as the SDK reports it: not a file, the HTTP
// status, code and msg, and the log id both in X-Tt-Logid and error.log_id.
func assertError(t *testing.T, resp *larkhelpdesk.TicketImageTicketResp, err error, want row) {
	t.Helper()
	if err != nil {
		t.Fatalf("the SDK failed: %v", err)
	}
	if resp.Success() {
		t.Fatalf("the SDK took HTTP %d (%s, %d bytes) for a file", resp.StatusCode, resp.Header.Get("Content-Type"), len(resp.RawBody))
	}
	if resp.File != nil {
		t.Fatal("an error came with a file")
	}
	got := row{resp.StatusCode, resp.Code, resp.Msg}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if !harness.LogID.MatchString(resp.RequestId()) {
		t.Fatalf("log id %q", resp.RequestId())
	}
	if resp.Err == nil || resp.Err.LogID != resp.RequestId() {
		t.Fatalf("error.log_id %+v, X-Tt-Logid %q", resp.Err, resp.RequestId())
	}
}

func TestErrorRowsAsTheSDKReportsThem(t *testing.T) {
	tk := theTicket(t)
	a := server.Client(world.A)
	postMsg := *tk.Messages["post"].Id
	imageMsg := *tk.Messages["image"].Id
	otherTicket := harness.StartService(t, a)

	cases := []struct {
		name string
		call func() (*larkhelpdesk.TicketImageTicketResp, error)
		want row
	}{
		{"a post without index is 154000", func() (*larkhelpdesk.TicketImageTicketResp, error) {
			return harness.Image(a, tk.ID, postMsg, nil)
		}, badRequest},
		{"an index past the post's images is 154000", func() (*larkhelpdesk.TicketImageTicketResp, error) {
			return harness.Image(a, tk.ID, postMsg, harness.Index(3))
		}, badRequest},
		{"a negative index is 154000", func() (*larkhelpdesk.TicketImageTicketResp, error) {
			return harness.Image(a, tk.ID, postMsg, harness.Index(-1))
		}, badRequest},
		{"a message of another ticket is 154004", func() (*larkhelpdesk.TicketImageTicketResp, error) {
			return harness.Image(a, otherTicket, postMsg, harness.Index(0))
		}, notFound},
		{"a text message is 154004", func() (*larkhelpdesk.TicketImageTicketResp, error) {
			return harness.Image(a, tk.ID, *tk.Messages["text"].Id, nil)
		}, notFound},
		{"another tenant's helpdesk credential is 154003", func() (*larkhelpdesk.TicketImageTicketResp, error) {
			mixed := *world.A
			mixed.HelpdeskID, mixed.HelpdeskToken = world.B.HelpdeskID, world.B.HelpdeskToken
			return harness.Image(server.Client(&mixed), tk.ID, imageMsg, nil)
		}, forbidden},
		{"a wrong helpdesk token is 154003", func() (*larkhelpdesk.TicketImageTicketResp, error) {
			wrong := *world.A
			wrong.HelpdeskToken = "ht-wrong"
			return harness.Image(server.Client(&wrong), tk.ID, imageMsg, nil)
		}, forbidden},
		{"a store app is 154003", func() (*larkhelpdesk.TicketImageTicketResp, error) {
			return harness.Image(server.Client(world.AStore), tk.ID, imageMsg, nil)
		}, forbidden},
		{"an app without a helpdesk scope is 99991672", func() (*larkhelpdesk.TicketImageTicketResp, error) {
			return harness.Image(server.Client(world.ANoHelpdeskScope), tk.ID, imageMsg, nil)
		}, noScope},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			resp, err := c.call()
			assertError(t, resp, err, c.want)
		})
	}

	// On 99991663 the SDK sends the request once more, with the same token
	// (it does not drop a token it was given, nor one it cached).
	t.Run("a bad token is 99991663 after one retry", func(t *testing.T) {
		before := server.Requests("/open-apis/helpdesk/v1/ticket_images", "code=99991663")
		tokens := server.TokenRequests()
		resp, err := harness.Image(a, tk.ID, imageMsg, nil, larkcore.WithTenantAccessToken("t-not-a-token"))
		assertError(t, resp, err, badToken)
		if n := server.Requests("/open-apis/helpdesk/v1/ticket_images", "code=99991663") - before; n != 2 {
			t.Fatalf("the SDK sent %d requests, want 2 (one retry)", n)
		}
		if server.TokenRequests() != tokens {
			t.Fatal("the SDK asked for a token")
		}
	})
}

func TestADeletedImageIs154404(t *testing.T) {
	c := server.Client(world.A)
	key := harness.Upload(t, c, bytes.NewReader(images[2]))
	ticketID := harness.StartService(t, c)
	msg := harness.Post(t, c, ticketID, "image", map[string]string{"image_key": key})
	if resp, err := harness.Image(c, ticketID, msg, nil); err != nil || !resp.Success() {
		t.Fatalf("before the delete: %v %+v", err, resp)
	}
	server.MustAdmin(t, "image", "delete", "--ticket", ticketID, "--msg", msg)
	resp, err := harness.Image(c, ticketID, msg, nil)
	assertError(t, resp, err, deleted)
}

// 155000 is reachable without a server change on the embedded backend: an
// image whose stored object is gone from blobs/ (never downloaded before, so
// not in the server's cache). With HELPDESK_BLOB_URL (S3) the objects are
// not files here.
func TestAnImageWhoseStoredObjectIsGoneIs155000(t *testing.T) {
	if os.Getenv("HELPDESK_BLOB_URL") != "" {
		t.Skip("objects are in HELPDESK_BLOB_URL, not in the data dir")
	}
	c := server.Client(world.A)
	// Bytes no other upload has: a PNG with a trailer of its own.
	data := append(append([]byte{}, images[1]...), []byte("155000 "+time.Now().String())...)
	key := harness.Upload(t, c, bytes.NewReader(data))
	ticketID := harness.StartService(t, c)
	msg := harness.Post(t, c, ticketID, "image", map[string]string{"image_key": key})
	removed := 0
	err := filepath.WalkDir(server.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if b, err := os.ReadFile(path); err == nil && bytes.Equal(b, data) {
			removed++
			return os.Remove(path)
		}
		return nil
	})
	if err != nil || removed != 1 {
		t.Fatalf("found %d stored objects for the upload (%v)", removed, err)
	}
	resp, err := harness.Image(c, ticketID, msg, nil)
	assertError(t, resp, err, internal)
}
