package sdk_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"helpdesk/conformance/go/harness"
)

// The changes made to the page's printed Go sample, and nothing else: the
// values, this server's base URL, and the helpdesk credential the SDK's own
// way (the printed sample has none, so against Feishu it gets 154003 too).
var sampleChanges = [][2]string{
	{"\t\"fmt\"\n", "\t\"fmt\"\n\t\"os\"\n\n"},
	{`client := lark.NewClient("YOUR_APP_ID", "YOUR_APP_SECRET")`,
		"client := lark.NewClient(os.Getenv(\"APP_ID\"), os.Getenv(\"APP_SECRET\"),\n" +
			"\t\tlark.WithOpenBaseUrl(os.Getenv(\"BASE_URL\")),\n" +
			"\t\tlark.WithHelpdeskCredential(os.Getenv(\"HELPDESK_ID\"), os.Getenv(\"HELPDESK_TOKEN\")))"},
	{"TicketId(`12345`)", `TicketId(os.Getenv("TICKET_ID"))`},
	{"MsgId(`12345`)", `MsgId(os.Getenv("MSG_ID"))`},
	{"TicketImage(context.Background(), req)", "TicketImage(context.Background(), req, larkcore.WithNeedHelpDeskAuth())"},
	{`resp.WriteFile("c:/filepath/filename")`, `resp.WriteFile(os.Getenv("FILE_PATH"))`},
}

func TestTheGoSampleIsThePagesTextWithOnlyTheValuesChanged(t *testing.T) {
	page, err := os.ReadFile(filepath.Join(harness.Root, "..", "shared", "spec", "ticket_images.zh.md"))
	if err != nil {
		t.Skipf("the API page is not beside the project: %v", err)
	}
	m := regexp.MustCompile("(?s)#### Golang SDK\n\n```go\n(.*?)\n```").FindSubmatch(page)
	if m == nil {
		t.Fatal("no Golang SDK sample on the API page")
	}
	want := string(m[1])
	for _, c := range sampleChanges {
		if !strings.Contains(want, c[0]) {
			t.Fatalf("the page's sample no longer contains %q", c[0])
		}
		want = strings.Replace(want, c[0], c[1], 1)
	}
	got, err := os.ReadFile(filepath.Join(harness.Root, "conformance", "go", "sample", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	// The file's own header comment stands before `package main`.
	body := string(got)[strings.Index(string(got), "package main"):]
	if strings.TrimSpace(body) != strings.TrimSpace(want) {
		t.Errorf("sample/main.go is not the page's sample with only the listed changes:\n--- want\n%s\n--- got\n%s", want, body)
	}
}
