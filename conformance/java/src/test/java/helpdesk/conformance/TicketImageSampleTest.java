package helpdesk.conformance;

import com.lark.oapi.sample.apiall.helpdeskv1.TicketImageTicketSample;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The API page's Java sample, TicketImageTicketSample, compiled from its
 * text (src/test/java/com/lark/oapi/sample/...) with only the ids, the
 * credentials and the base URL changed, plus the one import the printed
 * text lacks.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The API page's Java sample")
class TicketImageSampleTest {
    static final Path SAMPLE = Server.ROOT.resolve(
            "conformance/java/src/test/java/com/lark/oapi/sample/apiall/helpdeskv1/TicketImageTicketSample.java");
    static final Path PAGE = Server.ROOT.getParent().resolve("shared/spec/ticket_images.zh.md");

    /** What was changed in the page's text, and nothing else. */
    static final List<Map.Entry<String, String>> CHANGES = List.of(
            // The printed sample uses StandardCharsets without importing it: as printed it does not compile.
            Map.entry("import com.lark.oapi.core.request.RequestOptions;\n",
                    "import com.lark.oapi.core.request.RequestOptions;\nimport java.nio.charset.StandardCharsets;\n"),
            Map.entry("Client client = Client.newBuilder(\"YOUR_APP_ID\", \"YOUR_APP_SECRET\").build();",
                    "Client client = Client.newBuilder(System.getProperty(\"APP_ID\"), System.getProperty(\"APP_SECRET\"))"
                            + ".openBaseUrl(System.getProperty(\"BASE_URL\"))"
                            + ".helpDeskCredential(System.getProperty(\"HELPDESK_ID\"), System.getProperty(\"HELPDESK_TOKEN\")).build();"),
            Map.entry(".ticketId(\"12345\")", ".ticketId(System.getProperty(\"TICKET_ID\"))"),
            Map.entry(".msgId(\"12345\")", ".msgId(System.getProperty(\"MSG_ID\"))"),
            Map.entry("resp.writeFile(\"c:/filepath/filename\");", "resp.writeFile(System.getProperty(\"FILE_PATH\"));"));

    Server server;
    World world;
    Sdk.DemoTicket ticket;

    @BeforeAll
    void setUp() throws Exception {
        server = Server.started();
        world = new World(server);
        ticket = Sdk.demoTicket(Sdk.client(server, world.a));
    }

    @AfterAll
    void tearDown() throws Exception {
        server.close();
    }

    private void properties(String msgId, Path out) {
        System.setProperty("APP_ID", world.a.appId());
        System.setProperty("APP_SECRET", world.a.appSecret());
        System.setProperty("BASE_URL", server.base);
        System.setProperty("HELPDESK_ID", world.a.helpdeskId());
        System.setProperty("HELPDESK_TOKEN", world.a.helpdeskToken());
        System.setProperty("TICKET_ID", ticket.id());
        System.setProperty("MSG_ID", msgId);
        System.setProperty("FILE_PATH", out.toString());
    }

    /** Runs the sample's main, returning what it printed. */
    private String runSample() throws Exception {
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            TicketImageTicketSample.main(new String[0]);
        } finally {
            System.setOut(stdout);
        }
        return printed.toString(StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("writes the post's first image (index 0) with writeFile, byte for byte, and prints nothing")
    void writesThePostsFirstImage() throws Exception {
        Path out = server.dataDir.resolve("sample-out");
        properties(ticket.post().getMessageId(), out);
        String printed = runSample();
        assertEquals("", printed);
        assertArrayEquals(Sdk.IMAGES.get(1), Files.readAllBytes(out));
    }

    @Test
    @DisplayName("prints the code, msg, request id and JSON body of an error, as its error branch is written")
    void printsAnError() throws Exception {
        Path out = server.dataDir.resolve("sample-error-out");
        properties(ticket.text().getMessageId(), out); // a message without images
        String printed = runSample();
        Matcher m = Pattern.compile("^code:154004,msg:Resource not found,reqId:(\\S+), resp:(\\{.*\\})\\s*$", Pattern.DOTALL)
                .matcher(printed);
        assertTrue(m.matches(), printed);
        assertTrue(Sdk.LOG_ID.matcher(m.group(1)).matches(), m.group(1));
        assertTrue(m.group(2).contains("\"log_id\": \"" + m.group(1) + "\""), m.group(2));
        assertTrue(!Files.exists(out), "no file is written on an error");
    }

    @Test
    @DisplayName("differs from the page's printed text only by the ids, credentials, base URL and the missing import")
    void isThePagesText() throws Exception {
        assumeTrue(Files.exists(PAGE), "the API page is not at " + PAGE);
        String page = Files.readString(PAGE, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("#### Java SDK\n\n```java\n(.*?)```", Pattern.DOTALL).matcher(page);
        assertTrue(m.find(), "the page's Java sample");
        String text = m.group(1);
        for (Map.Entry<String, String> change : CHANGES) {
            assertEquals(1, text.split(Pattern.quote(change.getKey()), -1).length - 1, change.getKey());
            text = text.replace(change.getKey(), change.getValue());
        }
        assertEquals(text, Files.readString(SAMPLE, StandardCharsets.UTF_8));
    }
}
