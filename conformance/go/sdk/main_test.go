// The official Go SDK (github.com/larksuite/oapi-sdk-go/v3) against the
// helpdesk server, through the SDK's own API only.
package sdk_test

import (
	"bytes"
	"os"
	"sync"
	"testing"

	"helpdesk/conformance/go/harness"
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

var (
	ticketOnce sync.Once
	ticket     *harness.Ticket
)

// theTicket is tenant A's ticket with a text, an image and a post message
// (three images), all made through the SDK, once for the package.
func theTicket(t *testing.T) *harness.Ticket {
	t.Helper()
	ticketOnce.Do(func() {
		ticket = harness.MakeTicket(t, server.Client(world.A))
	})
	if ticket == nil {
		t.Fatal("the ticket fixture failed")
	}
	return ticket
}

// wanted is every image of the ticket: message, index (nil for an image
// message) and bytes.
type want struct {
	message string
	index   *int
	data    []byte
	ext     string
}

func wanted() []want {
	w := []want{{"image", nil, images[0], ".png"}}
	exts := []string{".png", ".jpg", ".webp"}
	for i := 0; i < 3; i++ {
		w = append(w, want{"post", harness.Index(i), images[1+i], exts[i]})
	}
	return w
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, not the %d bytes uploaded", what, len(got), len(want))
	}
}
