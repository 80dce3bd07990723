package sdk_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"helpdesk/conformance/go/harness"
)

// The API page's Go sample, built from sample/main.go (the printed text with
// only the values changed) and run as a program. It always sends index 0, as
// printed: for a post that is its first image, and an image message takes it
// too. It writes the file with the SDK's WriteFile.
func TestTheAPIPagesGoSampleWritesTheImageAsPrinted(t *testing.T) {
	tk := theTicket(t)
	goBin, err := exec.LookPath("go") // go test puts GOROOT/bin first on PATH
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sample")
	build := exec.Command(goBin, "build", "-buildvcs=false", "-o", bin, "./sample")
	build.Dir = filepath.Join(harness.Root, "conformance", "go")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./sample: %v\n%s", err, out)
	}
	sample := func(msgID, file string) string {
		t.Helper()
		run := exec.Command(bin)
		run.Env = append(os.Environ(),
			"APP_ID="+world.A.AppID, "APP_SECRET="+world.A.AppSecret, "BASE_URL="+server.Base,
			"HELPDESK_ID="+world.A.HelpdeskID, "HELPDESK_TOKEN="+world.A.HelpdeskToken,
			"TICKET_ID="+tk.ID, "MSG_ID="+msgID, "FILE_PATH="+file)
		var stdout, stderr bytes.Buffer
		run.Stdout, run.Stderr = &stdout, &stderr
		if err := run.Run(); err != nil {
			t.Fatalf("the sample: %v\n%s%s", err, stdout.String(), stderr.String())
		}
		// The SDK's default logger writes "[Info] [client ready]" to stdout;
		// anything else there is the sample's own output.
		var own []string
		for _, line := range strings.Split(stdout.String(), "\n") {
			if !strings.Contains(line, " [Info] ") {
				own = append(own, line)
			}
		}
		return strings.TrimSpace(strings.Join(own, "\n"))
	}
	for _, c := range []struct {
		message string
		data    []byte
	}{{"post", images[1]}, {"image", images[0]}} {
		file := filepath.Join(dir, c.message)
		if out := sample(*tk.Messages[c.message].MessageId, file); out != "" {
			t.Fatalf("the sample, for the %s message, reported an error:\n%s", c.message, out)
		}
		sameBytes(t, "the sample's file for the "+c.message+" message", read(t, file), c.data)
	}

	// Its error branch: the log id and the SDK's CodeError, pretty-printed.
	file := filepath.Join(dir, "text")
	out := sample(*tk.Messages["text"].MessageId, file)
	if !harness.LogIDIn(out, "logId: ", ", error response:") || !strings.Contains(out, "154004") {
		t.Fatalf("the sample printed:\n%s", out)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("the sample wrote a file for an error")
	}
}

func TestEveryImageComesBackByteForByte(t *testing.T) {
	tk := theTicket(t)
	c := server.Client(world.A)
	for _, w := range wanted() {
		m := tk.Messages[w.message]
		for _, msgID := range []string{*m.Id, *m.MessageId} {
			resp, err := harness.Image(c, tk.ID, msgID, w.index)
			if err != nil {
				t.Fatal(err)
			}
			if !resp.Success() || resp.StatusCode != 200 {
				t.Fatalf("%s %s: HTTP %d code %d %s", w.message, msgID, resp.StatusCode, resp.Code, resp.Msg)
			}
			if filepath.Ext(resp.FileName) != w.ext {
				t.Fatalf("%s %s: file name %q, want one ending %s", w.message, msgID, resp.FileName, w.ext)
			}
			if !harness.LogID.MatchString(resp.RequestId()) {
				t.Fatalf("log id %q", resp.RequestId())
			}
			path := filepath.Join(t.TempDir(), resp.FileName)
			if err := resp.WriteFile(path); err != nil {
				t.Fatal(err)
			}
			sameBytes(t, w.message+" "+msgID, read(t, path), w.data)
		}
	}
}

// The SDK names an upload after its reader's Name() (an *os.File's base
// name); the server keeps it, and the download's Content-Disposition gives
// it back: Go's mime parser prefers filename* (UTF-8) to the ASCII fallback.
func TestANonASCIIUploadNameIsTheFileNameTheSDKParses(t *testing.T) {
	c := server.Client(world.A)
	name := "登录 错误（截图）.png"
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, images[0], 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	key := harness.Upload(t, c, f)
	ticketID := harness.StartService(t, c)
	msg := harness.Post(t, c, ticketID, "image", map[string]string{"image_key": key})
	resp, err := harness.Image(c, ticketID, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Success() {
		t.Fatalf("HTTP %d code %d %s", resp.StatusCode, resp.Code, resp.Msg)
	}
	if resp.FileName != name {
		t.Fatalf("FileName %q, want %q (Content-Disposition: %s)", resp.FileName, name, resp.Header.Get("Content-Disposition"))
	}
	b, _ := io.ReadAll(resp.File)
	sameBytes(t, name, b, images[0])
}

// An upload made from a plain reader has no name: the SDK sends
// "unknown-file", and the server stores it with the extension of what the
// bytes are.
func TestAnUnnamedUploadIsNamedAfterWhatItIs(t *testing.T) {
	c := server.Client(world.A)
	key := harness.Upload(t, c, bytes.NewReader(images[2]))
	ticketID := harness.StartService(t, c)
	msg := harness.Post(t, c, ticketID, "image", map[string]string{"image_key": key})
	resp, err := harness.Image(c, ticketID, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Success() || !strings.HasSuffix(resp.FileName, ".jpg") {
		t.Fatalf("HTTP %d code %d, file name %q", resp.StatusCode, resp.Code, resp.FileName)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Fatalf("Content-Type %q", ct)
	}
}
