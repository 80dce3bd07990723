package helpdesk.conformance;

import com.google.gson.JsonObject;
import com.lark.oapi.Client;
import com.lark.oapi.core.request.EventReq;
import com.lark.oapi.core.response.EventResp;
import com.lark.oapi.event.EventDispatcher;
import com.lark.oapi.service.helpdesk.HelpdeskService;
import com.lark.oapi.service.helpdesk.v1.model.Event;
import com.lark.oapi.service.helpdesk.v1.model.P2TicketCreatedV1;
import com.lark.oapi.service.helpdesk.v1.model.P2TicketMessageCreatedV1;
import com.lark.oapi.service.helpdesk.v1.model.P2TicketMessageCreatedV1Data;
import com.lark.oapi.service.helpdesk.v1.model.SubscribeEventReq;
import com.lark.oapi.service.helpdesk.v1.model.SubscribeEventReqBody;
import com.lark.oapi.service.helpdesk.v1.model.UnsubscribeEventReq;
import com.lark.oapi.service.helpdesk.v1.model.UnsubscribeEventReqBody;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static helpdesk.conformance.Sdk.IMAGES;
import static helpdesk.conformance.Sdk.client;
import static helpdesk.conformance.Sdk.image;
import static helpdesk.conformance.Sdk.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Helpdesk events through the SDK's EventDispatcher (with an encrypt key and
 * a verification token) behind an HTTP server of the suite's own: it passes
 * URL verification, receives both events through its typed handlers, and the
 * message handler fetches every image the event names through the same SDK's
 * ticket_image.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("Helpdesk events through the Java SDK's EventDispatcher")
class EventsTest {
    static final String ENCRYPT_KEY = "java conformance key";
    static final String VERIFICATION_TOKEN = "java conformance token";
    static final String[][] EVENTS = {{"helpdesk.ticket", "ticket.created_v1"},
            {"helpdesk.ticket_message", "ticket_message.created_v1"}};

    Server server;
    World world;

    @BeforeAll
    void setUp() throws Exception {
        server = Server.started();
        world = new World(server);
    }

    @AfterAll
    void tearDown() throws Exception {
        server.close();
    }

    /** The SDK's dispatcher behind the JDK's HTTP server, as an app would run it. */
    static final class Receiver implements AutoCloseable {
        final List<P2TicketCreatedV1> tickets = Collections.synchronizedList(new ArrayList<>());
        final List<P2TicketMessageCreatedV1> messages = Collections.synchronizedList(new ArrayList<>());
        final Map<String, List<byte[]>> images = new ConcurrentHashMap<>();
        final Map<String, List<String>> fileNames = new ConcurrentHashMap<>();
        /** Whatever went wrong in a handler or in the dispatcher: the assertions show it. */
        final List<String> problems = Collections.synchronizedList(new ArrayList<>());
        final String url;
        private final HttpServer http;
        private final ExecutorService pool = Executors.newFixedThreadPool(4);
        private final EventDispatcher dispatcher;
        private final Client c;

        Receiver(Client c) throws Exception {
            this.c = c;
            dispatcher = EventDispatcher.newBuilder(VERIFICATION_TOKEN, ENCRYPT_KEY)
                    .onP2TicketCreatedV1(new HelpdeskService.P2TicketCreatedV1Handler() {
                        @Override
                        public void handle(P2TicketCreatedV1 event) {
                            tickets.add(event);
                        }
                    })
                    .onP2TicketMessageCreatedV1(new HelpdeskService.P2TicketMessageCreatedV1Handler() {
                        @Override
                        public void handle(P2TicketMessageCreatedV1 event) throws Exception {
                            onMessage(event);
                        }
                    })
                    .build();
            http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            http.createContext("/webhook/event", this::serve);
            http.setExecutor(pool);
            http.start();
            url = "http://127.0.0.1:" + http.getAddress().getPort() + "/webhook/event";
        }

        private void onMessage(P2TicketMessageCreatedV1 data) throws Exception {
            P2TicketMessageCreatedV1Data ev = data.getEvent();
            List<Integer> indexes = new ArrayList<>();
            if ("image".equals(ev.getMsgType())) {
                indexes.add(null);
            } else if ("post".equals(ev.getMsgType())) {
                for (int i = 0; i < ev.getContent().getImageKeys().length; i++) {
                    indexes.add(i);
                }
            }
            List<byte[]> got = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (Integer index : indexes) {
                var resp = image(c, ev.getTicket().getTicketId(), ev.getMessageId(), index);
                if (!resp.success()) {
                    problems.add("ticket_image " + ev.getMessageId() + " " + index + ": " + resp.getCode() + " " + resp.getMsg());
                    return;
                }
                got.add(resp.getData().toByteArray());
                names.add(resp.getFileName());
            }
            images.put(ev.getMessageId(), got);
            fileNames.put(ev.getMessageId(), names);
            messages.add(data);
        }

        private void serve(HttpExchange exchange) {
            try (exchange) {
                EventReq req = new EventReq();
                // The SDK looks headers up by lower-case name.
                Map<String, List<String>> headers = new HashMap<>();
                exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), v));
                req.setHeaders(headers);
                req.setBody(exchange.getRequestBody().readAllBytes());
                req.setHttpPath(exchange.getRequestURI().getPath());
                EventResp resp = dispatcher.handle(req);
                if (resp.getStatusCode() != 200) {
                    problems.add("dispatcher answered " + resp.getStatusCode() + ": "
                            + new String(resp.getBody(), java.nio.charset.StandardCharsets.UTF_8));
                }
                resp.getHeaders().forEach((k, v) -> exchange.getResponseHeaders().put(k, v));
                byte[] body = resp.getBody() == null ? new byte[0] : resp.getBody();
                exchange.sendResponseHeaders(resp.getStatusCode(), body.length == 0 ? -1 : body.length);
                exchange.getResponseBody().write(body);
            } catch (Throwable e) {
                problems.add("receiver: " + e);
            }
        }

        @Override
        public void close() {
            http.stop(0);
            pool.shutdownNow();
        }
    }

    static Event[] events() {
        Event[] out = new Event[EVENTS.length];
        for (int i = 0; i < EVENTS.length; i++) {
            out[i] = Event.newBuilder().type(EVENTS[i][0]).subtype(EVENTS[i][1]).build();
        }
        return out;
    }

    @Test
    @DisplayName("the dispatcher passes URL verification, gets both events through its typed handlers and fetches every image byte for byte")
    void dispatcherGetsBothEventsAndEveryImage() throws Exception {
        // An app of its own on tenant A's helpdesk, so that no other ticket reaches this receiver.
        World.Party party = world.newAppOfA();
        Client c = client(server, party);
        try (Receiver receiver = new Receiver(c)) {
            try {
                JsonObject out = server.admin("app", "events", "--app", party.appId(), "--url", receiver.url,
                        "--encrypt-key", ENCRYPT_KEY, "--verification-token", VERIFICATION_TOKEN);
                assertTrue(out.get("encrypted").getAsBoolean());
                assertEquals(receiver.url, out.get("url").getAsString());
                ok(c.helpdesk().v1().event().subscribe(SubscribeEventReq.newBuilder()
                        .subscribeEventReqBody(SubscribeEventReqBody.newBuilder().events(events()).build()).build()));

                List<String> keys = new ArrayList<>();
                for (var f : Sdk.FILES) {
                    keys.add(Sdk.upload(c, f));
                }
                String ticketId = Sdk.startService(c);
                Sdk.post(c, ticketId, "text", Map.of("text", "hello"));
                String imageMsg = Sdk.post(c, ticketId, "image", Map.of("image_key", keys.get(0)));
                String postMsg = Sdk.post(c, ticketId, "post", Sdk.postContent(keys.subList(1, 4)));

                long deadline = System.currentTimeMillis() + 15_000;
                while (receiver.messages.size() < 3 && System.currentTimeMillis() < deadline
                        && receiver.problems.isEmpty()) {
                    Thread.sleep(50);
                }
                assertEquals(List.of(), receiver.problems);
                assertEquals(1, receiver.tickets.size());
                assertEquals(3, receiver.messages.size());

                P2TicketCreatedV1 created = receiver.tickets.get(0);
                assertEquals("2.0", created.getSchema());
                assertEquals("helpdesk.ticket.created_v1", created.getHeader().getEventType());
                assertEquals(party.appId(), created.getHeader().getAppId());
                assertEquals(party.tenantKey(), created.getHeader().getTenantKey());
                assertEquals(VERIFICATION_TOKEN, created.getHeader().getToken());
                assertEquals(ticketId, created.getEvent().getTicketId());
                assertEquals("ou_conformance", created.getEvent().getGuest().getId().getOpenId());

                assertEquals(List.of("text", "image", "post"),
                        receiver.messages.stream().map(m -> m.getEvent().getMsgType()).toList());
                assertEquals("hello", receiver.messages.get(0).getEvent().getText());
                assertEquals(keys.get(0), receiver.messages.get(1).getEvent().getContent().getImageKey());
                assertEquals(keys.subList(1, 4), List.of(receiver.messages.get(2).getEvent().getContent().getImageKeys()));
                for (P2TicketMessageCreatedV1 m : receiver.messages) {
                    assertEquals("helpdesk.ticket_message.created_v1", m.getHeader().getEventType());
                    assertEquals(ticketId, m.getEvent().getTicket().getTicketId());
                }
                assertEquals(1, receiver.images.get(imageMsg).size());
                assertArrayEquals(IMAGES.get(0), receiver.images.get(imageMsg).get(0));
                assertEquals(List.of("login-error.png"), receiver.fileNames.get(imageMsg));
                assertEquals(3, receiver.images.get(postMsg).size());
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(IMAGES.get(1 + i), receiver.images.get(postMsg).get(i));
                }
                assertEquals(Sdk.DEMO_FILES.subList(1, 4), receiver.fileNames.get(postMsg));
                Set<String> ids = new HashSet<>();
                receiver.messages.forEach(m -> ids.add(m.getHeader().getEventId()));
                ids.add(created.getHeader().getEventId());
                assertEquals(4, ids.size());
                assertNotEquals(null, created.getEventReq(), "the SDK hands the raw request to the handler");
            } finally {
                ok(c.helpdesk().v1().event().unsubscribe(UnsubscribeEventReq.newBuilder()
                        .unsubscribeEventReqBody(UnsubscribeEventReqBody.newBuilder().events(events()).build()).build()));
                server.admin("app", "events", "--app", party.appId(), "--url", "");
            }
        }
    }

    @Test
    @DisplayName("a URL whose dispatcher has another verification token is refused by admin app events")
    void wrongVerificationTokenIsRefused() throws Exception {
        World.Party party = world.newAppOfA();
        // The same encrypt key, another token: the SDK's dispatcher answers 500 to the challenge.
        try (Receiver receiver = new Receiver(client(server, party))) {
            Server.AdminRun run = server.adminRun("app", "events", "--app", party.appId(), "--url", receiver.url,
                    "--encrypt-key", ENCRYPT_KEY, "--verification-token", "not the receiver's token");
            assertNotEquals(0, run.exit(), run.stdout());
            assertEquals(1, run.stderr().strip().lines().count(), run.stderr());
        }
    }
}
