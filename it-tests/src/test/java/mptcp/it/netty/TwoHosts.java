package mptcp.it.netty;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;

import mptcp.it.ChildJvm;
import mptcp.it.Jdk;
import mptcp.it.Netns;
import mptcp.it.Ss;

/**
 * Two network namespaces made by the test ("mpa-" + random), a server and a client, joined by one veth pair with
 * the addresses 10.77.N.1 (server) and 10.77.N.2 (client), N random; both deleted by {@link #close} (and, should the
 * test JVM die, by Netns's shutdown hooks). Traffic stays inside these namespaces.
 */
final class TwoHosts implements AutoCloseable {
    /** The Maven-resolved test class path: Netty 4.2.18, grpc-netty-shaded, Reactor Netty, the test apps. */
    static final String NETTY42 = ChildJvm.CLASSPATH;
    /** Netty 4.1.137's jars (copied to target/netty41 by the build) and the test apps. */
    static final String NETTY41 = netty41();

    /** Each JDK with each Netty native transport the tests cover: 4.2.18 epoll and io_uring, 4.1.137 epoll. */
    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> transports() {
        List<org.junit.jupiter.params.provider.Arguments> out = new ArrayList<>();
        for (Jdk jdk : Jdk.values()) {
            out.add(org.junit.jupiter.params.provider.Arguments.of(jdk, "4.2.18.Final", "epoll"));
            out.add(org.junit.jupiter.params.provider.Arguments.of(jdk, "4.2.18.Final", "io_uring"));
            out.add(org.junit.jupiter.params.provider.Arguments.of(jdk, "4.1.137.Final", "epoll"));
        }
        return out.stream();
    }

    /** The class path of Netty {@code version} (one of {@link #transports}'). */
    static String classpath(String version) {
        return version.startsWith("4.1") ? NETTY41 : NETTY42;
    }

    final Netns server;
    final Netns client;
    final String serverIp;
    final String clientIp;

    TwoHosts() throws IOException, InterruptedException {
        server = new Netns();
        Netns c = null;
        try {
            c = new Netns();
            int n = ThreadLocalRandom.current().nextInt(1, 250);
            serverIp = "10.77." + n + ".1";
            clientIp = "10.77." + n + ".2";
            String sv = "v" + server.name.substring(4);
            String cv = "v" + c.name.substring(4);
            mptcp.it.Proc.check(List.of("ip", "link", "add", sv, "netns", server.name, "type", "veth", "peer", "name", cv, "netns", c.name));
            server.exec("ip", "addr", "add", serverIp + "/24", "dev", sv);
            server.exec("ip", "link", "set", sv, "up");
            c.exec("ip", "addr", "add", clientIp + "/24", "dev", cv);
            c.exec("ip", "link", "set", cv, "up");
        } catch (IOException | InterruptedException | RuntimeException e) {
            server.close();
            if (c != null) {
                c.close();
            }
            throw e;
        }
        client = c;
    }

    /** {@code java [jvmArgs] -cp classpath main args} inside {@code ns}. */
    static ChildJvm java(Netns ns, Jdk jdk, String classpath, List<String> jvmArgs, String main, String... args)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(jdk.java());
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of("-cp", classpath, main));
        cmd.addAll(List.of(args));
        return ChildJvm.command(ns == null ? cmd : ns.wrap(cmd), Map.of());
    }

    private static String netty41() {
        String testClasses = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> e.replace('\\', '/').endsWith("/test-classes")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no test-classes on " + System.getProperty("java.class.path")));
        File dir = new File(new File(testClasses).getParentFile(), "netty41");
        File[] jars = dir.listFiles((d, name) -> name.endsWith(".jar"));
        if (jars == null || jars.length < 7) {
            throw new IllegalStateException("Netty 4.1 jars missing in " + dir + " (mvn generate-test-resources copies them)");
        }
        return Arrays.stream(jars).map(File::getPath).collect(Collectors.joining(File.pathSeparator))
                + File.pathSeparator + testClasses;
    }

    @Override
    public void close() {
        client.close();
        server.close(); // deleting a namespace deletes its end of the veth, and so the pair
    }
}
