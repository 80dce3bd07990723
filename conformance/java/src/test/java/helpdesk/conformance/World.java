package helpdesk.conformance;

import com.google.gson.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Tenants A and B, each with a custom app and a helpdesk; A also has a store
 *  app and an app without a helpdesk scope. */
final class World {
    /** An app and the helpdesk it calls with. */
    record Party(String tenantKey, String appId, String appSecret, String helpdeskId, String helpdeskToken) {
        /** The same app with another party's helpdesk credential. */
        Party withHelpdeskOf(Party other) {
            return new Party(tenantKey, appId, appSecret, other.helpdeskId, other.helpdeskToken);
        }

        String credential() {
            return Base64.getEncoder().encodeToString(
                    (helpdeskId + ":" + helpdeskToken).getBytes(StandardCharsets.UTF_8));
        }
    }

    final Party a;
    final Party b;
    final Party aStore;
    final Party aNoHelpdeskScope;
    private final Server server;
    private final JsonObject helpdeskA;
    private final String tenantA;

    World(Server server) throws Exception {
        this.server = server;
        tenantA = server.admin("tenant", "create", "--name", "A").get("tenant_key").getAsString();
        helpdeskA = server.admin("helpdesk", "create", "--tenant", tenantA, "--name", "A");
        String tenantB = server.admin("tenant", "create", "--name", "B").get("tenant_key").getAsString();
        JsonObject helpdeskB = server.admin("helpdesk", "create", "--tenant", tenantB, "--name", "B");
        a = party(tenantA, helpdeskA);
        b = party(tenantB, helpdeskB);
        aStore = party(tenantA, helpdeskA, "--kind", "store");
        aNoHelpdeskScope = party(tenantA, helpdeskA, "--scope", "im:resource");
    }

    /** Another custom app of tenant A, on A's helpdesk. */
    Party newAppOfA() throws Exception {
        return party(tenantA, helpdeskA);
    }

    private Party party(String tenantKey, JsonObject helpdesk, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("app", "create", "--tenant", tenantKey, "--name", "conformance"));
        args.addAll(List.of(extra));
        JsonObject app = server.admin(args.toArray(new String[0]));
        return new Party(tenantKey, app.get("app_id").getAsString(), app.get("app_secret").getAsString(),
                helpdesk.get("helpdesk_id").getAsString(), helpdesk.get("helpdesk_token").getAsString());
    }
}
