package helpdesk.conformance;

import com.google.gson.Gson;
import com.lark.oapi.Client;
import com.lark.oapi.core.request.RequestOptions;
import com.lark.oapi.core.response.BaseResponse;
import com.lark.oapi.service.helpdesk.v1.model.CreateTicketMessageReq;
import com.lark.oapi.service.helpdesk.v1.model.CreateTicketMessageReqBody;
import com.lark.oapi.service.helpdesk.v1.model.CreateTicketMessageResp;
import com.lark.oapi.service.helpdesk.v1.model.ListTicketMessageReq;
import com.lark.oapi.service.helpdesk.v1.model.ListTicketMessageResp;
import com.lark.oapi.service.helpdesk.v1.model.ListTicketMessageRespBody;
import com.lark.oapi.service.helpdesk.v1.model.StartServiceTicketReq;
import com.lark.oapi.service.helpdesk.v1.model.StartServiceTicketReqBody;
import com.lark.oapi.service.helpdesk.v1.model.StartServiceTicketResp;
import com.lark.oapi.service.helpdesk.v1.model.TicketImageTicketReq;
import com.lark.oapi.service.helpdesk.v1.model.TicketImageTicketResp;
import com.lark.oapi.service.helpdesk.v1.model.TicketMessage;
import com.lark.oapi.service.im.v1.model.CreateImageReq;
import com.lark.oapi.service.im.v1.model.CreateImageReqBody;
import com.lark.oapi.service.im.v1.model.CreateImageResp;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SDK's own calls, as an app makes them. */
final class Sdk {
    static final Pattern LOG_ID = Pattern.compile("^\\d{14}[0-9A-F]{20}$");
    static final List<String> DEMO_FILES = List.of("login-error.png", "step-1.png", "step-2.jpg", "step-3.webp");
    static final List<File> FILES = DEMO_FILES.stream().map(n -> Server.DEMO_IMAGES.resolve(n).toFile()).toList();
    static final List<byte[]> IMAGES = FILES.stream().map(Sdk::read).toList();
    private static final Gson GSON = new Gson();

    private Sdk() {
    }

    private static byte[] read(File f) {
        try {
            return Files.readAllBytes(f.toPath());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client of the party's app with its helpdesk credential, against the server. */
    static Client client(Server server, World.Party party) {
        return Client.newBuilder(party.appId(), party.appSecret())
                .openBaseUrl(server.base)
                .helpDeskCredential(party.helpdeskId(), party.helpdeskToken())
                .build();
    }

    static <T extends BaseResponse<?>> T ok(T resp) {
        assertTrue(resp.success(), () -> "code " + resp.getCode() + ", msg " + resp.getMsg());
        return resp;
    }

    static String upload(Client c, File file) throws Exception {
        CreateImageResp resp = ok(c.im().v1().image().create(CreateImageReq.newBuilder()
                .createImageReqBody(CreateImageReqBody.newBuilder().imageType("message").image(file).build())
                .build()));
        assertNotNull(resp.getData().getImageKey());
        return resp.getData().getImageKey();
    }

    static String startService(Client c) throws Exception {
        StartServiceTicketResp resp = ok(c.helpdesk().v1().ticket().startService(StartServiceTicketReq.newBuilder()
                .startServiceTicketReqBody(StartServiceTicketReqBody.newBuilder()
                        .humanService(true).openId("ou_conformance").build())
                .build()));
        assertNotNull(resp.getData().getChatId());
        return resp.getData().getTicketId();
    }

    static String post(Client c, String ticketId, String msgType, Object content) throws Exception {
        CreateTicketMessageResp resp = ok(c.helpdesk().v1().ticketMessage().create(CreateTicketMessageReq.newBuilder()
                .ticketId(ticketId)
                .createTicketMessageReqBody(CreateTicketMessageReqBody.newBuilder()
                        .msgType(msgType).content(GSON.toJson(content)).build())
                .build()));
        return resp.getData().getMessageId();
    }

    /** A post of a text paragraph and one paragraph per image, as test_sdk.py makes it. */
    static Map<String, Object> postContent(List<String> keys) {
        List<Object> paragraphs = new java.util.ArrayList<>();
        paragraphs.add(List.of(Map.of("tag", "text", "text", "steps")));
        for (String k : keys) {
            paragraphs.add(List.of(Map.of("tag", "img", "image_key", k)));
        }
        return Map.of("zh_cn", Map.of("title", "export fails", "content", paragraphs));
    }

    static ListTicketMessageRespBody listMessages(Client c, String ticketId) throws Exception {
        ListTicketMessageResp resp = ok(c.helpdesk().v1().ticketMessage().list(ListTicketMessageReq.newBuilder()
                .ticketId(ticketId).page(1).pageSize(50).build()));
        return resp.getData();
    }

    static TicketImageTicketResp image(Client c, String ticketId, String msgId, Integer index) throws Exception {
        return image(c, ticketId, msgId, index, null);
    }

    static TicketImageTicketResp image(Client c, String ticketId, String msgId, Integer index,
                                       RequestOptions options) throws Exception {
        TicketImageTicketReq.Builder b = TicketImageTicketReq.newBuilder().ticketId(ticketId).msgId(msgId);
        if (index != null) {
            b.index(index);
        }
        return options == null
                ? c.helpdesk().v1().ticket().ticketImage(b.build())
                : c.helpdesk().v1().ticket().ticketImage(b.build(), options);
    }

    /** A ticket with a text, an image and a post message (three images), all made through the SDK. */
    record DemoTicket(String id, Map<String, TicketMessage> messages, List<String> keys) {
        TicketMessage text() {
            return messages.get("text");
        }

        TicketMessage image() {
            return messages.get("image");
        }

        TicketMessage post() {
            return messages.get("post");
        }
    }

    static DemoTicket demoTicket(Client c) throws Exception {
        List<String> keys = new java.util.ArrayList<>();
        for (File f : FILES) {
            keys.add(upload(c, f));
        }
        String id = startService(c);
        post(c, id, "text", Map.of("text", "hello"));
        post(c, id, "image", Map.of("image_key", keys.get(0)));
        post(c, id, "post", postContent(keys.subList(1, 4)));
        Map<String, TicketMessage> messages = new HashMap<>();
        for (TicketMessage m : listMessages(c, id).getMessages()) {
            messages.put(m.getMessageType(), m);
        }
        return new DemoTicket(id, messages, keys);
    }

    /** An error as the SDK reports it: no success, the HTTP status, code, msg and log id. */
    static void assertError(BaseResponse<?> resp, int status, int code, String msg) {
        assertFalse(resp.success(), "the SDK reported success");
        assertEquals(List.of(status, code, msg),
                List.of(resp.getRawResponse().getStatusCode(), resp.getCode(), resp.getMsg()));
        assertTrue(LOG_ID.matcher(resp.getRequestId()).matches(), "log id " + resp.getRequestId());
        assertNotNull(resp.getError(), "the error object");
        assertEquals(resp.getRequestId(), resp.getError().getLogId());
    }
}
