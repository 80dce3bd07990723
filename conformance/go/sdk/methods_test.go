package sdk_test

import (
	"bytes"
	"context"
	"testing"

	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"helpdesk/conformance/go/harness"
)

// im/v1 images create: a multipart upload with image_type, answered with an
// image_key; bytes that are no image are refused with Feishu's 234011.
func TestUploadGivesAnImageKeyAndRefusesWhatIsNoImage(t *testing.T) {
	c := server.Client(world.A)
	if key := harness.Upload(t, c, bytes.NewReader(images[3])); len(key) < 5 || key[:4] != "img_" {
		t.Fatalf("image_key %q", key)
	}
	req := larkim.NewCreateImageReqBuilder().Body(
		larkim.NewCreateImageReqBodyBuilder().ImageType("message").Image(bytes.NewReader([]byte("not an image"))).Build(),
	).Build()
	resp, err := c.Im.V1.Image.Create(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Success() || resp.Code != 234011 || resp.StatusCode != 400 {
		t.Fatalf("HTTP %d code %d %s", resp.StatusCode, resp.Code, resp.Msg)
	}
	if !harness.LogID.MatchString(resp.RequestId()) {
		t.Fatalf("log id %q", resp.RequestId())
	}
}

func TestStartServiceOpensATicketWithAChat(t *testing.T) {
	c := server.Client(world.A)
	a, b := harness.StartService(t, c), harness.StartService(t, c)
	if a == "" || a == b {
		t.Fatalf("ticket ids %q and %q", a, b)
	}
}

func TestMessagesAreCreatedAndListedInOrder(t *testing.T) {
	tk := theTicket(t)
	data := harness.List(t, server.Client(world.A), tk.ID)
	if data.Total == nil || *data.Total != 3 || len(data.Messages) != 3 {
		t.Fatalf("total %v, %d messages", data.Total, len(data.Messages))
	}
	for i, kind := range []string{"text", "image", "post"} {
		m := data.Messages[i]
		if *m.MessageType != kind {
			t.Fatalf("message %d is %s, want %s", i, *m.MessageType, kind)
		}
		// created_at is integer seconds: the SDK's *int would not parse anything else.
		if m.Id == nil || *m.Id == "" || m.MessageId == nil || *m.MessageId == "" || m.CreatedAt == nil || *m.CreatedAt < 1_000_000_000 || *m.CreatedAt > 10_000_000_000 {
			t.Fatalf("message %d: %+v", i, m)
		}
	}
	if *data.Messages[0].Content != "hello" && *data.Messages[0].Content != `{"text":"hello"}` {
		t.Fatalf("text content %q", *data.Messages[0].Content)
	}
}

func TestTicketGetDescribesTheTicket(t *testing.T) {
	tk := theTicket(t)
	got := getTicket(t, server.Client(world.A), tk.ID)
	if got.TicketId == nil || *got.TicketId != tk.ID {
		t.Fatalf("ticket_id %v", got.TicketId)
	}
	if got.Guest == nil || got.Guest.Id == nil || *got.Guest.Id != "ou_conformance" {
		t.Fatalf("guest %+v", got.Guest)
	}
	if got.HelpdeskId == nil || *got.HelpdeskId != world.A.HelpdeskID {
		t.Fatalf("helpdesk_id %v", got.HelpdeskId)
	}
	if got.CreatedAt == nil || *got.CreatedAt < 1_000_000_000 {
		t.Fatalf("created_at %v", got.CreatedAt)
	}
}
