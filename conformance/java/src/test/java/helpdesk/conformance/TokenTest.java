package helpdesk.conformance;

import com.lark.oapi.Client;
import com.lark.oapi.core.cache.ICache;
import com.lark.oapi.core.request.SelfBuiltAppAccessTokenReq;
import com.lark.oapi.core.response.RawResponse;
import com.lark.oapi.core.response.TenantAccessTokenResp;
import com.lark.oapi.core.token.AccessTokenType;
import com.lark.oapi.core.utils.UnmarshalRespUtil;
import com.lark.oapi.service.helpdesk.v1.model.GetTicketReq;
import com.lark.oapi.service.helpdesk.v1.model.TicketImageTicketResp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static helpdesk.conformance.Sdk.IMAGES;
import static helpdesk.conformance.Sdk.assertError;
import static helpdesk.conformance.Sdk.client;
import static helpdesk.conformance.Sdk.image;
import static helpdesk.conformance.Sdk.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The SDK's own tenant token: fetched once, cached for {@code expire - 180}
 * seconds in a cache that is process-wide (every {@code Client.build()}
 * installs its cache as the global one), never dropped on 99991663.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The Java SDK's tenant token")
class TokenTest {
    static final String TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal";
    static final String INVALID_TOKEN_MSG =
            "Invalid access token for authorization. Please make a request with token attached.";
    /** What TokenManager takes off the server's {@code expire} before caching. */
    static final int SDK_EXPIRY_MARGIN = 180;

    Server server;
    World world;
    Sdk.DemoTicket ticket;

    @BeforeAll
    void setUp() throws Exception {
        server = Server.started();
        world = new World(server);
        ticket = Sdk.demoTicket(client(server, world.a));
    }

    @AfterAll
    void tearDown() throws Exception {
        server.close();
    }

    /** A token cache that remembers what the SDK put in it, and for how long. */
    static final class RecordingCache implements ICache {
        record Put(String key, String value, long seconds) {
        }

        final List<Put> puts = new ArrayList<>();
        private final Map<String, String> values = new ConcurrentHashMap<>();
        private final Map<String, Long> ends = new ConcurrentHashMap<>();

        @Override
        public synchronized String get(String key) {
            Long end = ends.get(key);
            return end == null || System.currentTimeMillis() >= end ? "" : values.get(key);
        }

        @Override
        public synchronized void set(String key, String value, int expire, TimeUnit timeUnit) {
            long seconds = timeUnit.toSeconds(expire);
            puts.add(new Put(key, value, seconds));
            values.put(key, value);
            ends.put(key, System.currentTimeMillis() + seconds * 1000);
        }
    }

    /** The {@code expire} of a token request made now, through the SDK's raw call. */
    private long announcedExpire(World.Party party) throws Exception {
        SelfBuiltAppAccessTokenReq body = new SelfBuiltAppAccessTokenReq();
        body.setAppId(party.appId());
        body.setAppSecret(party.appSecret());
        RawResponse raw = Client.newBuilder(party.appId(), party.appSecret()).openBaseUrl(server.base).build()
                .post(TOKEN_PATH, body, AccessTokenType.None);
        TenantAccessTokenResp resp = UnmarshalRespUtil.unmarshalResp(raw, TenantAccessTokenResp.class);
        assertEquals(0, resp.getCode());
        return resp.getExpire();
    }

    private void getTicket(Client c, String id) throws Exception {
        ok(c.helpdesk().v1().ticket().get(GetTicketReq.newBuilder().ticketId(id).build()));
    }

    @Test
    @DisplayName("the SDK fetches its own tenant token once and reuses it for every later call")
    void fetchesAndCachesItsOwnToken() throws Exception {
        World.Party party = world.b;
        Client c = client(server, party);
        long before = server.tokenRequests();
        String id = Sdk.startService(c);
        for (int i = 0; i < 3; i++) {
            getTicket(c, id);
        }
        assertEquals(1, server.tokenRequests() - before);
        // Another Client of the same app shares the process-wide cache.
        getTicket(client(server, party), id);
        assertEquals(1, server.tokenRequests() - before);
    }

    @Test
    @DisplayName("the SDK caches the token for the expire the server announces less its 180 s margin")
    void cachesForExpireLessMargin() throws Exception {
        World.Party party = world.newAppOfA();
        RecordingCache cache = new RecordingCache();
        Client c = Client.newBuilder(party.appId(), party.appSecret()).openBaseUrl(server.base)
                .helpDeskCredential(party.helpdeskId(), party.helpdeskToken()).tokenCache(cache).build();
        ok(image(c, ticket.id(), ticket.image().getId(), null));
        ok(image(c, ticket.id(), ticket.image().getId(), null));
        assertEquals(1, cache.puts.size(), cache.puts.toString());
        RecordingCache.Put put = cache.puts.get(0);
        // A self-built app's token is cached under its app id and the tenant key of the request (none).
        assertEquals("tenant_access_token-" + party.appId() + "-null", put.key());
        assertTrue(put.value().startsWith("t-"), put.value());
        // The server announces the seconds its current token has left (a new one every 90 minutes).
        long expire = announcedExpire(party);
        assertTrue(expire > 1800 && expire <= 7200, "expire " + expire);
        assertTrue(Math.abs(expire - SDK_EXPIRY_MARGIN - put.seconds()) <= 2,
                "cached for " + put.seconds() + " s of " + expire);
    }

    @Test
    @DisplayName("the cached token survives a server restart: no new token request, the image comes back")
    void cachedTokenSurvivesRestart() throws Exception {
        Client c = client(server, world.a);
        ok(image(c, ticket.id(), ticket.image().getId(), null));
        server.restart();
        long before = server.tokenRequests();
        TicketImageTicketResp resp = ok(image(c, ticket.id(), ticket.image().getId(), null));
        assertArrayEquals(IMAGES.get(0), resp.getData().toByteArray());
        assertEquals(before, server.tokenRequests(), "the SDK reused its cached token");
    }

    @Test
    @DisplayName("after revoke-tokens the SDK neither retries nor drops its token: every call fails with 99991663 until its cache is replaced")
    void revokedTokenIsNotDropped() throws Exception {
        World.Party party = world.newAppOfA();
        Client c = client(server, party);
        ok(image(c, ticket.id(), ticket.image().getId(), null));
        long tokens = server.tokenRequests();
        server.admin("app", "revoke-tokens", "--app", party.appId());

        long calls = server.requests("/open-apis/helpdesk/v1/ticket_images");
        assertError(image(c, ticket.id(), ticket.image().getId(), null), 400, 99991663, INVALID_TOKEN_MSG);
        assertEquals(calls + 1, server.requests("/open-apis/helpdesk/v1/ticket_images"), "no retry");
        assertError(image(c, ticket.id(), ticket.image().getId(), null), 400, 99991663, INVALID_TOKEN_MSG);
        // A new Client in the same process reads the same process-wide cache.
        assertError(image(client(server, party), ticket.id(), ticket.image().getId(), null),
                400, 99991663, INVALID_TOKEN_MSG);
        assertEquals(tokens, server.tokenRequests(), "the SDK never asked for a new token");

        // Only a client built with a cache of its own gets a new token...
        Client fresh = Client.newBuilder(party.appId(), party.appSecret()).openBaseUrl(server.base)
                .helpDeskCredential(party.helpdeskId(), party.helpdeskToken()).tokenCache(new RecordingCache()).build();
        ok(image(fresh, ticket.id(), ticket.image().getId(), null));
        assertEquals(tokens + 1, server.tokenRequests());
        // ...and, the cache being global, building it moved the old client onto that cache too.
        ok(image(c, ticket.id(), ticket.image().getId(), null));
        assertEquals(tokens + 1, server.tokenRequests());
    }

    @Test
    @DisplayName("a token cached for a few seconds (serve --token-lifetime 184) expires in the SDK, which fetches a new one")
    void expiryInTheSdkCache() throws Exception {
        assumeTrue(Server.serveHasFlag("--token-lifetime"), "helpdesk serve has no --token-lifetime yet");
        // The SDK caches for expire - 180 s: at most 4 s here (no time at all when expire <= 180).
        int lifetime = SDK_EXPIRY_MARGIN + 4;
        try (Server short_ = Server.started("--token-lifetime", Integer.toString(lifetime))) {
            World w = new World(short_);
            RecordingCache cache = new RecordingCache();
            Client c = Client.newBuilder(w.a.appId(), w.a.appSecret()).openBaseUrl(short_.base)
                    .helpDeskCredential(w.a.helpdeskId(), w.a.helpdeskToken()).tokenCache(cache).build();
            String id = Sdk.startService(c);
            getTicket(c, id);
            assertEquals(1, short_.tokenRequests());
            long cached = cache.puts.get(0).seconds();
            assertTrue(cached <= 4, "cached for " + cached + " s");
            Thread.sleep(Math.max(cached, 0) * 1000 + 1000);
            getTicket(c, id);
            assertEquals(2, short_.tokenRequests(), "the SDK fetched a new token once its cache expired");
            assertEquals(2, cache.puts.size());
        }
    }
}
