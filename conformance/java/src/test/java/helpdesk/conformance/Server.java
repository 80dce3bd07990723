package helpdesk.conformance;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The real helpdesk binary on an ephemeral port over a fresh data dir,
 * provisioned through {@code helpdesk admin}, as an operator would. The
 * environment passes through to both, so that HELPDESK_DATABASE_URL and
 * HELPDESK_BLOB_URL, where set, pick the backends.
 */
final class Server implements AutoCloseable {
    static final Path ROOT = Paths.get(System.getProperty("basedir", System.getProperty("user.dir")))
            .toAbsolutePath().getParent().getParent();
    static final String BIN = System.getenv().getOrDefault("HELPDESK_BIN",
            ROOT.resolve("target").resolve("debug").resolve("helpdesk").toString());
    static final Path DEMO_IMAGES = ROOT.resolve("crates").resolve("helpdesk-cli").resolve("demo");

    final Path dataDir;
    final Path logPath;
    private final List<String> extraArgs;
    private int port = 0;
    private Process proc;
    String base;

    Server(String... extraArgs) throws IOException {
        this.dataDir = Files.createTempDirectory("helpdesk-java-");
        this.logPath = dataDir.resolve("server.log");
        this.extraArgs = Arrays.asList(extraArgs);
    }

    static Server started(String... extraArgs) throws Exception {
        Server s = new Server(extraArgs);
        s.start();
        return s;
    }

    void start() throws IOException {
        List<String> cmd = new ArrayList<>(List.of(BIN, "serve", "--data-dir", dataDir.toString(),
                "--listen", "127.0.0.1:" + port));
        cmd.addAll(extraArgs);
        proc = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.appendTo(logPath.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith("helpdesk listening on ")) {
                base = line.substring(line.lastIndexOf(' ') + 1);
                port = Integer.parseInt(base.substring(base.lastIndexOf(':') + 1));
                Thread drain = new Thread(() -> {
                    try {
                        while (out.readLine() != null) {
                            // keeps the pipe from filling up
                        }
                    } catch (IOException ignored) {
                        // the server is gone
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return;
            }
        }
        throw new IllegalStateException("helpdesk serve exited before listening; see " + logPath);
    }

    void stop() throws InterruptedException {
        proc.destroy(); // SIGTERM: a graceful shutdown
        if (!proc.waitFor(30, TimeUnit.SECONDS)) {
            proc.destroyForcibly();
            throw new IllegalStateException("helpdesk serve did not stop within 30 s");
        }
        if (proc.exitValue() != 0) {
            throw new IllegalStateException("helpdesk serve exited with " + proc.exitValue());
        }
    }

    /** Stops and starts again on the same port and data dir. */
    void restart() throws Exception {
        stop();
        start();
    }

    /** What {@code helpdesk admin} printed, its exit code and its stderr. */
    record AdminRun(int exit, String stdout, String stderr) {
    }

    AdminRun adminRun(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(BIN, "admin", "--data-dir", dataDir.toString()));
        cmd.addAll(Arrays.asList(args));
        Path err = Files.createTempFile(dataDir, "admin-", ".err");
        Process p = new ProcessBuilder(cmd)
                .redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = p.waitFor();
        String stderr = Files.readString(err);
        Files.delete(err);
        return new AdminRun(exit, stdout, stderr);
    }

    JsonObject admin(String... args) throws Exception {
        AdminRun r = adminRun(args);
        if (r.exit() != 0) {
            throw new IllegalStateException("helpdesk admin " + String.join(" ", args) + " exited with "
                    + r.exit() + ": " + r.stderr());
        }
        return JsonParser.parseString(r.stdout()).getAsJsonObject();
    }

    /** How many requests of this path the server has logged so far. */
    long requests(String path) throws IOException {
        String needle = "path=" + path;
        try (Stream<String> lines = Files.lines(logPath, StandardCharsets.UTF_8)) {
            return lines.filter(l -> l.contains(needle)).count();
        }
    }

    long tokenRequests() throws IOException {
        return requests("/open-apis/auth/v3/tenant_access_token/internal");
    }

    /** Whether {@code helpdesk serve} knows this flag. */
    static boolean serveHasFlag(String flag) throws Exception {
        Process p = new ProcessBuilder(BIN, "serve", "--help").redirectErrorStream(true).start();
        String help = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return help.contains(flag);
    }

    @Override
    public void close() throws Exception {
        try {
            stop();
        } finally {
            try (Stream<Path> walk = Files.walk(dataDir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
