package mptcp.it;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A network namespace made by a test, with a unique name ("mpa-" + random), loopback up, deleted by {@link #close}
 * and, should the test JVM die first, by a shutdown hook. Needs root and iproute2: missing ones fail the test.
 */
public final class Netns implements AutoCloseable {
    public final String name = "mpa-" + UUID.randomUUID().toString().substring(0, 8);
    private final Thread cleanup = new Thread(this::delete, "netns-cleanup");

    public Netns() throws IOException, InterruptedException {
        requireRoot();
        Proc.check(List.of("ip", "netns", "add", name));
        Runtime.getRuntime().addShutdownHook(cleanup);
        exec("ip", "link", "set", "lo", "up");
    }

    /** Network namespaces need root and iproute2 ({@link Prerequisites}: a failure with CI=true, else a skip). */
    public static void requireRoot() throws IOException, InterruptedException {
        Prerequisites.require("network namespace test", Prerequisites.missing(List.of("ip")));
    }

    /** Runs a command inside the namespace; fails on a non-zero exit. */
    public String exec(String... command) throws IOException, InterruptedException {
        return Proc.check(wrap(List.of(command)));
    }

    public List<String> wrap(List<String> command) {
        List<String> out = new ArrayList<>(List.of("ip", "netns", "exec", name));
        out.addAll(command);
        return out;
    }

    /**
     * A veth pair between this namespace ({@code dev}, {@code address}/24) and {@code other} ({@code otherDev},
     * {@code otherAddress}/24), both ends up.
     */
    public void veth(String dev, String address, Netns other, String otherDev, String otherAddress)
            throws IOException, InterruptedException {
        exec("ip", "link", "add", dev, "type", "veth", "peer", "name", otherDev, "netns", other.name);
        exec("ip", "addr", "add", address + "/24", "dev", dev);
        exec("ip", "link", "set", dev, "up");
        other.exec("ip", "addr", "add", otherAddress + "/24", "dev", otherDev);
        other.exec("ip", "link", "set", otherDev, "up");
    }

    @Override
    public void close() {
        delete();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException ignored) {
            // shutting down
        }
    }

    private void delete() {
        try {
            new ProcessBuilder("ip", "netns", "del", name).inheritIO().start().waitFor();
        } catch (IOException | InterruptedException ignored) {
            // best effort
        }
    }
}
