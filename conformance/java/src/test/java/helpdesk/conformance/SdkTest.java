package helpdesk.conformance;

import com.lark.oapi.Client;
import com.lark.oapi.core.request.RequestOptions;
import com.lark.oapi.service.helpdesk.v1.model.GetTicketReq;
import com.lark.oapi.service.helpdesk.v1.model.GetTicketResp;
import com.lark.oapi.service.helpdesk.v1.model.ListTicketMessageRespBody;
import com.lark.oapi.service.helpdesk.v1.model.TicketImageTicketResp;
import com.lark.oapi.service.helpdesk.v1.model.TicketMessage;
import com.lark.oapi.service.helpdesk.v1.model.TicketV2;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static helpdesk.conformance.Sdk.IMAGES;
import static helpdesk.conformance.Sdk.LOG_ID;
import static helpdesk.conformance.Sdk.assertError;
import static helpdesk.conformance.Sdk.client;
import static helpdesk.conformance.Sdk.image;
import static helpdesk.conformance.Sdk.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The official Java SDK (com.larksuite.oapi:oapi-sdk) against the helpdesk
 *  server, through the SDK's own API only. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The Java SDK against the server")
class SdkTest {
    static final String BAD_REQUEST_MSG = "Bad request, please check your request body";
    static final String FORBIDDEN_MSG = "Please check you have the correct access";
    static final String NOT_FOUND_MSG = "Resource not found";

    Server server;
    World world;
    Client a;
    Sdk.DemoTicket ticket;

    @BeforeAll
    void setUp() throws Exception {
        server = Server.started();
        world = new World(server);
        a = client(server, world.a);
        ticket = Sdk.demoTicket(a);
    }

    @AfterAll
    void tearDown() throws Exception {
        server.close();
    }

    @Test
    @DisplayName("im/v1 image create uploads each demo image and returns a distinct image key")
    void uploadReturnsImageKeys() {
        assertEquals(4, ticket.keys().size());
        assertEquals(4, ticket.keys().stream().distinct().count());
        for (String k : ticket.keys()) {
            assertTrue(k.startsWith("img_"), k);
        }
    }

    @Test
    @DisplayName("start_service opens a ticket with a chat id, and ticket get reads it back with its guest")
    void startServiceAndTicketGet() throws Exception {
        String id = Sdk.startService(a);
        GetTicketResp resp = ok(a.helpdesk().v1().ticket().get(GetTicketReq.newBuilder().ticketId(id).build()));
        TicketV2 t = resp.getData().getTicket();
        assertEquals(id, t.getTicketId());
        assertEquals(world.a.helpdeskId(), t.getHelpdeskId());
        assertEquals("ou_conformance", t.getGuest().getId());
        assertNotNull(t.getCreatedAt());
        assertTrue(t.getCreatedAt() > 1_600_000_000L && t.getCreatedAt() < 10_000_000_000L,
                "created_at in seconds: " + t.getCreatedAt());
    }

    @Test
    @DisplayName("ticket messages list returns the text, image and post messages in order, with integer times and both ids")
    void messagesAreListed() throws Exception {
        ListTicketMessageRespBody data = Sdk.listMessages(a, ticket.id());
        assertEquals(3, data.getTotal());
        assertEquals(List.of("text", "image", "post"),
                Arrays.stream(data.getMessages()).map(TicketMessage::getMessageType).toList());
        for (TicketMessage m : data.getMessages()) {
            assertNotNull(m.getCreatedAt());
            assertNotNull(m.getId());
            assertNotNull(m.getMessageId());
        }
        assertTrue(ticket.text().getContent().contains("hello"), ticket.text().getContent());
    }

    @Test
    @DisplayName("every image of every message comes back byte for byte, with the uploaded file's name, by either message id")
    void everyImageByteForByte() throws Exception {
        record Wanted(TicketMessage message, Integer index, int image) {
        }
        List<Wanted> wanted = new ArrayList<>(List.of(new Wanted(ticket.image(), null, 0)));
        for (int i = 0; i < 3; i++) {
            wanted.add(new Wanted(ticket.post(), i, 1 + i));
        }
        Path dir = Files.createTempDirectory(server.dataDir, "out-");
        for (Wanted w : wanted) {
            for (String msgId : List.of(w.message().getId(), w.message().getMessageId())) {
                TicketImageTicketResp resp = ok(image(a, ticket.id(), msgId, w.index()));
                assertEquals(200, resp.getRawResponse().getStatusCode());
                assertArrayEquals(IMAGES.get(w.image()), resp.getData().toByteArray());
                String demoName = Sdk.DEMO_FILES.get(w.image());
                assertEquals(demoName, resp.getFileName(), "the name the SDK parsed from Content-Disposition");
                assertTrue(LOG_ID.matcher(resp.getRequestId()).matches(), resp.getRequestId());
                Path out = dir.resolve(resp.getFileName());
                resp.writeFile(out.toString());
                assertArrayEquals(IMAGES.get(w.image()), Files.readAllBytes(out));
            }
        }
    }

    @Test
    @DisplayName("a non-ASCII file name survives upload and download: the SDK reads it from filename*")
    void nonAsciiFileName() throws Exception {
        String name = "登录错误 截图-①.png";
        Path dir = Files.createTempDirectory(server.dataDir, "upload-");
        File file = dir.resolve(name).toFile();
        Files.write(file.toPath(), IMAGES.get(0));
        String key = Sdk.upload(a, file);
        String id = Sdk.startService(a);
        String msg = Sdk.post(a, id, "image", Map.of("image_key", key));
        String postMsg = Sdk.post(a, id, "post", Sdk.postContent(List.of(ticket.keys().get(2), key)));
        TicketImageTicketResp resp = ok(image(a, id, msg, null));
        assertEquals(name, resp.getFileName());
        assertArrayEquals(IMAGES.get(0), resp.getData().toByteArray());
        String disposition = resp.getRawResponse().getHeaders().get("Content-Disposition").get(0);
        assertTrue(disposition.matches("^attachment; filename=\"[ -~&&[^\"\\\\/]]+\"; filename\\*=UTF-8''\\S+$"), disposition);
        TicketImageTicketResp second = ok(image(a, id, postMsg, 1));
        assertEquals(name, second.getFileName());
        assertEquals("step-2.jpg", ok(image(a, id, postMsg, 0)).getFileName());
    }

    @Test
    @DisplayName("every error row of the API page reaches the SDK with its HTTP status, code, msg and log id")
    void errorRows() throws Exception {
        String postMsg = ticket.post().getId();
        String imageMsg = ticket.image().getId();
        String other = Sdk.startService(a);

        // 400 154000: a post without index, out of range, negative.
        assertError(image(a, ticket.id(), postMsg, null), 400, 154000, BAD_REQUEST_MSG);
        assertError(image(a, ticket.id(), postMsg, 3), 400, 154000, BAD_REQUEST_MSG);
        assertError(image(a, ticket.id(), postMsg, -1), 400, 154000, BAD_REQUEST_MSG);
        // 404 154004: the message of another ticket; a message holding no image.
        assertError(image(a, other, postMsg, 0), 404, 154004, NOT_FOUND_MSG);
        assertError(image(a, ticket.id(), ticket.text().getId(), null), 404, 154004, NOT_FOUND_MSG);
        // 403 154003: A's app with B's helpdesk credential; a wrong helpdesk token; a store app.
        assertError(image(client(server, world.a.withHelpdeskOf(world.b)), ticket.id(), imageMsg, null),
                403, 154003, FORBIDDEN_MSG);
        World.Party wrongToken = new World.Party(world.a.tenantKey(), world.a.appId(), world.a.appSecret(),
                world.a.helpdeskId(), "ht-not-the-token");
        assertError(image(client(server, wrongToken), ticket.id(), imageMsg, null), 403, 154003, FORBIDDEN_MSG);
        assertError(image(client(server, world.aStore), ticket.id(), imageMsg, null), 403, 154003, FORBIDDEN_MSG);
        // An app without a helpdesk scope.
        assertError(image(client(server, world.aNoHelpdeskScope), ticket.id(), imageMsg, null), 400, 99991672,
                "Access denied. One of the following scopes is required: [helpdesk:all:readonly, helpdesk:all]");
        // A bad token, given per request to a client without a token cache.
        Client manual = Client.newBuilder(world.a.appId(), world.a.appSecret()).openBaseUrl(server.base)
                .helpDeskCredential(world.a.helpdeskId(), world.a.helpdeskToken()).disableTokenCache().build();
        assertError(image(manual, ticket.id(), imageMsg, null,
                        RequestOptions.newBuilder().tenantAccessToken("t-not-a-token").build()), 400, 99991663,
                "Invalid access token for authorization. Please make a request with token attached.");
        // A JSON API reports its errors the same way (here: a ticket of another helpdesk).
        assertError(client(server, world.b).helpdesk().v1().ticket().get(
                GetTicketReq.newBuilder().ticketId(ticket.id()).build()), 404, 154004, NOT_FOUND_MSG);
    }

    @Test
    @DisplayName("401 154404: a deleted image")
    void deletedImage() throws Exception {
        String key = Sdk.upload(a, Sdk.FILES.get(2));
        String id = Sdk.startService(a);
        String msg = Sdk.post(a, id, "image", Map.of("image_key", key));
        ok(image(a, id, msg, null));
        server.admin("image", "delete", "--ticket", id, "--msg", msg);
        assertError(image(a, id, msg, null), 401, 154404, "Image might be deleted");
    }

    @Test
    @DisplayName("500 155000: an image whose stored bytes are gone (embedded file storage only)")
    void internalError() throws Exception {
        assumeTrue(System.getenv("HELPDESK_BLOB_URL") == null,
                "needs the embedded file storage, to remove an image's bytes behind the server's back");
        // Bytes no other test uploads, never fetched, so that no cache holds them.
        byte[] bytes = Arrays.copyOf(IMAGES.get(0), IMAGES.get(0).length);
        Path dir = Files.createTempDirectory(server.dataDir, "gone-");
        Path file = dir.resolve("gone.png");
        Files.write(file, bytes);
        // A PNG with a trailing byte is still a PNG and has another digest.
        Files.write(file, new byte[]{0}, java.nio.file.StandardOpenOption.APPEND);
        byte[] stored = Files.readAllBytes(file);
        String key = Sdk.upload(a, file.toFile());
        String id = Sdk.startService(a);
        String msg = Sdk.post(a, id, "image", Map.of("image_key", key));
        Path blob;
        try (Stream<Path> walk = Files.walk(server.dataDir.resolve("blobs"))) {
            blob = walk.filter(Files::isRegularFile).filter(p -> {
                try {
                    return Arrays.equals(Files.readAllBytes(p), stored);
                } catch (Exception e) {
                    return false;
                }
            }).findFirst().orElseThrow(() -> new AssertionError("the image's bytes under blobs/"));
        }
        Files.delete(blob);
        assertError(image(a, id, msg, null), 500, 155000, "Internal error");
    }

    @Test
    @DisplayName("on Java 16+ without --add-opens java.base/java.io the SDK throws JsonIOException on a ticket_image error")
    void errorWithoutAddOpens() throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
                TicketImageErrorMain.class.getName(), server.base, world.a.appId(), world.a.appSecret(),
                world.a.helpdeskId(), world.a.helpdeskToken(), ticket.id(), ticket.text().getId())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), out);
        // With the module opened (this JVM) the same call reports 404 154004; see errorRows.
        assertEquals("threw:com.google.gson.JsonIOException", out);
    }
}
