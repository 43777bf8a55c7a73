package mptcp.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code java -jar mptcp-agent.jar <args>} and captures its exit code and output (stdout + stderr). */
public final class Cli {
    public final int exit;
    public final String output;

    private Cli(int exit, String output) {
        this.exit = exit;
        this.output = output;
    }

    public static Cli run(Jdk jdk, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(jdk.java(), "-jar", ChildJvm.AGENT.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("MPTCP_AGENT_") || k.equals("JAVA_TOOL_OPTIONS"));
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("CLI did not exit: " + new String(out, StandardCharsets.UTF_8));
        }
        return new Cli(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "exit " + exit + ":\n" + output;
    }
}
