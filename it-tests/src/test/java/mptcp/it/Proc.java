package mptcp.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A short-lived command run to completion: its output (stdout and stderr merged) is read on a thread while the test
 * waits for the exit with a deadline, so a hung child fails the test with what it printed so far instead of hanging
 * the build.
 */
public final class Proc {
    public final int exit;
    public final String output;

    private Proc(int exit, String output) {
        this.exit = exit;
        this.output = output;
    }

    /**
     * Runs {@code command} with {@code env} added to (and MPTCP_AGENT_* and JAVA_TOOL_OPTIONS removed from, unless
     * {@code env} sets them) this environment; stdin gets EOF at once. Fails after {@code seconds}.
     */
    public static Proc run(List<String> command, Map<String, String> env, long seconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("MPTCP_AGENT_") || k.equals("JAVA_TOOL_OPTIONS"));
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> copy(p.getInputStream(), out), "proc-output");
        reader.setDaemon(true);
        reader.start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            reader.join(5_000);
            throw new AssertionError(String.join(" ", command) + " did not exit within " + seconds + " s; output so far:\n" + text(out));
        }
        reader.join(10_000); // the rest of the output (a grandchild still holding the pipe does not hang the test)
        return new Proc(p.exitValue(), text(out));
    }

    /** Like {@link #run} with a 60 s deadline; throws IOException unless the exit code is 0. */
    public static String check(List<String> command) throws IOException, InterruptedException {
        Proc p = run(command, Map.of(), 60);
        if (p.exit != 0) {
            throw new IOException(String.join(" ", command) + " failed (exit " + p.exit + "): " + p.output);
        }
        return p.output;
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] b = new byte[8192];
        try {
            for (int n; (n = in.read(b)) >= 0; ) {
                synchronized (out) {
                    out.write(b, 0, n);
                }
            }
        } catch (IOException ignored) {
            // process gone
        }
    }

    private static String text(ByteArrayOutputStream out) {
        synchronized (out) {
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    @Override
    public String toString() {
        return "exit " + exit + ":\n" + output;
    }
}
