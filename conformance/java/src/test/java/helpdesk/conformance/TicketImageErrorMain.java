package helpdesk.conformance;

import com.lark.oapi.Client;
import com.lark.oapi.service.helpdesk.v1.model.TicketImageTicketReq;
import com.lark.oapi.service.helpdesk.v1.model.TicketImageTicketResp;

/**
 * One ticket_image call, for a JVM of its own started without
 * {@code --add-opens java.base/java.io}: prints {@code code:N} for what the
 * SDK returned, or {@code threw:CLASS} for what it threw.
 * Arguments: base URL, app id, app secret, helpdesk id, helpdesk token, ticket id, msg id.
 */
public final class TicketImageErrorMain {
    public static void main(String[] args) {
        Client client = Client.newBuilder(args[1], args[2]).openBaseUrl(args[0])
                .helpDeskCredential(args[3], args[4]).build();
        try {
            TicketImageTicketResp resp = client.helpdesk().v1().ticket().ticketImage(
                    TicketImageTicketReq.newBuilder().ticketId(args[5]).msgId(args[6]).build());
            System.out.println("code:" + resp.getCode());
        } catch (Throwable e) {
            System.out.println("threw:" + e.getClass().getName());
        }
    }
}
