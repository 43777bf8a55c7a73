package mptcp.it;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child process of a test (normally a JVM running one of the apps in mptcp.it.apps through apps.Launch, whose version
 * it checks; also ncat, nc, ip mptcp monitor) with its stdout (lines, or bytes) and stderr read by threads, and stdin.
 * Killed by {@link #close}.
 */
public final class ChildJvm implements AutoCloseable {
    public static final Path AGENT = Paths.get(System.getProperty("agent.jar", "../agent/target/mptcp-agent.jar")).toAbsolutePath().normalize();
    /** The test class path minus the agent's and native module's classes: child JVMs get those only from the jar. */
    public static final String CLASSPATH = java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
            .filter(e -> !e.replace('\\', '/').matches(".*/(agent|native)/target/.*|.*/io/github/mptcp-agent/.*"))
            .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));

    private final Process process;
    private final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();
    private final List<String> stdoutSeen = Collections.synchronizedList(new ArrayList<>());
    private final List<String> stderr = Collections.synchronizedList(new ArrayList<>());
    private final Writer stdin;
    private final List<Thread> pumps = new ArrayList<>();
    /** The JDK a Java child must report running on (null: not a Java child); checked by the first {@link #expect}. */
    private Jdk jdk;
    /** -Xlog:class+load output of a child on JDK 17's legacy PlainSocketImpl, or null. */
    private final Path classLog;

    /** Binary stdout (a peer receiving the dual-path pattern), or null: stdout is read as lines. */
    private final ByteArrayOutputStream bytes;
    private String name;

    private ChildJvm(List<String> command, Map<String, String> env) throws IOException {
        this(command, env, null, null, false);
    }

    private ChildJvm(List<String> command, Map<String, String> env, Jdk jdk, Path classLog) throws IOException {
        this(command, env, jdk, classLog, false);
    }

    private ChildJvm(List<String> command, Map<String, String> env, Jdk jdk, Path classLog, boolean binary) throws IOException {
        this.jdk = jdk;
        this.classLog = classLog;
        this.name = jdk != null ? "java" : Paths.get(command.get(0)).getFileName().toString();
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("MPTCP_AGENT_") || k.equals("JAVA_TOOL_OPTIONS"));
        pb.environment().putAll(env);
        process = pb.start();
        bytes = binary ? new ByteArrayOutputStream() : null;
        pumps.add(binary ? copy(process.getInputStream(), bytes) : pump(process.getInputStream(), line -> {
            stdoutSeen.add(line);
            stdout.add(line);
        }));
        pumps.add(pump(process.getErrorStream(), stderr::add));
        stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    }

    /** A command whose stdout is kept as bytes (nc/ncat receiving the pattern); stderr as lines. */
    public static ChildJvm binary(List<String> command) throws IOException {
        return new ChildJvm(command, Map.of(), null, null, true);
    }

    /** Names this child in failure messages (e.g. "java@client"). */
    public ChildJvm named(String name) {
        this.name = name;
        return this;
    }

    /** {@code java [jvmArgs] -cp <test classpath> mainClass args} on {@code jdk}. */
    public static ChildJvm java(Jdk jdk, List<String> jvmArgs, String mainClass, String... args) throws IOException {
        return java(jdk, jvmArgs, Map.of(), mainClass, args);
    }

    public static ChildJvm java(Jdk jdk, List<String> jvmArgs, Map<String, String> env, String mainClass, String... args)
            throws IOException {
        Path classLog = legacy(jvmArgs) ? Files.createTempFile("mptcp-it-classes", ".log") : null;
        return new ChildJvm(javaCommand(jdk, jvmArgs, classLog, mainClass, args), env, jdk, classLog);
    }

    /** The same inside network namespace {@code ns} ({@code ip netns exec}). */
    public static ChildJvm javaIn(Netns ns, Jdk jdk, List<String> jvmArgs, String mainClass, String... args) throws IOException {
        return javaUnder(ns.wrap(List.of()), jdk, jvmArgs, mainClass, args);
    }

    /** The same, run by a wrapper command that ends by exec'ing its arguments (e.g. ip netns exec NS, unshare). */
    public static ChildJvm javaUnder(List<String> wrapper, Jdk jdk, List<String> jvmArgs, String mainClass, String... args)
            throws IOException {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.addAll(javaCommand(jdk, jvmArgs, null, mainClass, args));
        return new ChildJvm(cmd, Map.of(), jdk, null);
    }

    /**
     * {@code java [jvmArgs] -cp <test classpath> mptcp.it.apps.Launch mainClass args}: Launch prints the child's
     * Runtime.version() first, which {@link #expect} checks against {@code jdk}.
     */
    private static List<String> javaCommand(Jdk jdk, List<String> jvmArgs, Path classLog, String mainClass, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(jdk.java());
        cmd.addAll(jvmArgs);
        if (classLog != null) {
            // the JVM's own record of the classes it loaded: proves the legacy implementation really ran
            cmd.add("-Xlog:class+load=info:file=" + classLog);
        }
        cmd.add("-cp");
        cmd.add(CLASSPATH);
        cmd.add("mptcp.it.apps.Launch");
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static boolean legacy(List<String> jvmArgs) {
        return jvmArgs.contains("-Djdk.net.usePlainSocketImpl=true");
    }

    /**
     * For a child started with {@code -Djdk.net.usePlainSocketImpl=true}: fails unless it runs on JDK 17 (JDK 18+
     * ignore the property) and the JVM loaded java.net.PlainSocketImpl, i.e. the sockets so far really went through
     * the legacy implementation. Call after the child made its sockets.
     */
    public void assertLegacySocketImpl() throws IOException {
        if (classLog == null) {
            throw new AssertionError("not started with -Djdk.net.usePlainSocketImpl=true");
        }
        if (jdk != Jdk.JDK17 && jdk != null) {
            throw new AssertionError("the legacy PlainSocketImpl exists on JDK 17 only, not " + jdk);
        }
        String log = Files.readString(classLog);
        if (!log.contains(" java.net.PlainSocketImpl ")) {
            throw new AssertionError("the JVM never loaded java.net.PlainSocketImpl: the sockets were not legacy ones\n" + output());
        }
    }

    /** Any command, e.g. {@code ip netns exec NS java ...}. */
    public static ChildJvm command(List<String> command, Map<String, String> env) throws IOException {
        return new ChildJvm(command, env);
    }

    /**
     * The agent with {@code loopback=mptcp} before {@code options}: for tests whose peers talk over loopback and
     * expect MPTCP there (the default, loopback=tcp, keeps loopback plain TCP; RulesIT tests that default).
     */
    public static String loopbackAgentArg(String options) {
        return agentArg(LOOPBACK_MPTCP + (options == null || options.isEmpty() ? "" : "," + options));
    }

    /** The agent option that makes loopback sockets MPTCP like any others. */
    public static final String LOOPBACK_MPTCP = "loopback=mptcp";

    public static String agentArg(String options) {
        return "-javaagent:" + AGENT + (options == null || options.isEmpty() ? "" : "=" + options);
    }

    public long pid() {
        return process.pid();
    }

    /** Waits for a stdout line starting with {@code prefix}; fails with all output so far if none comes. */
    public String expect(String prefix) throws InterruptedException {
        checkVersion();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            String line = stdout.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError("no line starting with '" + prefix + "' within 60 s (alive=" + process.isAlive()
                        + ")\n" + output());
            }
            if (line.startsWith(prefix)) {
                return line;
            }
        }
    }

    /**
     * Waits until some stdout line seen so far (also one already returned by {@link #expect}) matches {@code p};
     * fails after {@code timeoutMs}, or as soon as the child ended without printing it.
     */
    public String await(java.util.function.Predicate<String> p, long timeoutMs) throws InterruptedException {
        checkVersion();
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() - end < 0) {
            boolean ended = !process.isAlive() && !pumps.get(0).isAlive();
            for (String l : stdoutLines()) {
                if (p.test(l)) {
                    return l;
                }
            }
            if (ended) {
                break;
            }
            Thread.sleep(20);
        }
        throw new AssertionError(name + ": no expected line within " + timeoutMs + " ms (alive=" + process.isAlive() + ")" + this);
    }

    /** Waits for the exit (fails after {@code timeoutMs}) and for all output; returns the exit code. */
    public int exit(long timeoutMs) throws InterruptedException {
        if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
            throw new AssertionError(name + ": still running after " + timeoutMs + " ms" + this);
        }
        for (Thread pump : pumps) {
            pump.join(10_000);
        }
        checkVersion();
        return process.exitValue();
    }

    /** What the child wrote to stdout so far, for a {@link #binary} child. */
    public byte[] bytes() {
        synchronized (bytes) {
            return bytes.toByteArray();
        }
    }

    /** The child's stdin as bytes (e.g. to stream the dual-path pattern into nc). */
    public java.io.OutputStream stdinStream() {
        return process.getOutputStream();
    }

    /** EOF on the child's stdin. */
    public void closeStdin() throws IOException {
        process.getOutputStream().close();
    }

    /** The first stdout line of a Java child is Launch's "JVM <feature> <version>": fails unless it is {@link #jdk}. */
    private void checkVersion() throws InterruptedException {
        if (jdk != null) {
            Jdk expected = jdk;
            jdk = null;
            String version = expect("JVM ");
            if (!version.startsWith("JVM " + expected.feature + " ")) {
                throw new AssertionError("the " + expected + " child runs on another JDK: " + version + " ("
                        + expected.java() + ")");
            }
        }
    }

    public void send(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
    }

    /** Waits for the process to exit and for all its output to be read; returns its exit code. */
    public int waitFor() throws InterruptedException {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("child did not exit within 60 s\n" + output());
        }
        for (Thread pump : pumps) {
            pump.join(10_000); // all output read
        }
        checkVersion();
        return process.exitValue();
    }

    public List<String> stdoutLines() {
        synchronized (stdoutSeen) {
            return new ArrayList<>(stdoutSeen);
        }
    }

    public List<String> stderrLines() {
        synchronized (stderr) {
            return new ArrayList<>(stderr);
        }
    }

    /** Ends the app (a line on stdin) and waits until it exited and all its output was read. */
    public void finish() throws IOException, InterruptedException {
        send("bye");
        int exit = waitFor();
        if (exit != 0) {
            throw new AssertionError("exit code " + exit + "\n" + output());
        }
    }

    /** Lines the agent printed (they all start with "mptcp-agent: "); complete only after {@link #finish}. */
    public List<String> agentLines() {
        List<String> out = new ArrayList<>();
        for (String l : stderrLines()) {
            if (l.startsWith("mptcp-agent")) {
                out.add(l);
            }
        }
        return out;
    }

    public String output() {
        String out = bytes != null ? bytes().length + " bytes" : String.join("\n", stdoutLines());
        return "--- " + name + " stdout\n" + out + "\n--- " + name + " stderr\n" + String.join("\n", stderrLines());
    }

    @Override
    public String toString() {
        return "\n" + output();
    }

    @Override
    public void close() {
        if (classLog != null) {
            try {
                Files.deleteIfExists(classLog);
            } catch (IOException ignored) {
                // a temp file
            }
        }
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread copy(InputStream in, ByteArrayOutputStream into) {
        Thread t = new Thread(() -> {
            byte[] b = new byte[65536];
            try {
                for (int n; (n = in.read(b)) >= 0; ) {
                    synchronized (into) {
                        into.write(b, 0, n);
                    }
                }
            } catch (IOException ignored) {
                // process ended
            }
        }, "child-bytes");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static Thread pump(InputStream in, java.util.function.Consumer<String> sink) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    sink.accept(line);
                }
            } catch (IOException ignored) {
                // process ended
            }
        }, "child-output");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
