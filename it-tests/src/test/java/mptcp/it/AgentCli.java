package mptcp.it;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs the agent's command line, {@code java -jar mptcp-agent.jar <args>}, on a given JDK and captures its exit code
 * and output (stdout + stderr), with a deadline. (Named so it does not shadow the agent's own {@code Cli}.)
 */
public final class AgentCli {
    public final int exit;
    public final String output;

    private AgentCli(Proc p) {
        this.exit = p.exit;
        this.output = p.output;
    }

    public static AgentCli run(Jdk jdk, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(jdk.java(), "-jar", ChildJvm.AGENT.toString()));
        cmd.addAll(List.of(args));
        return new AgentCli(Proc.run(cmd, Map.of(), 60));
    }

    /** {@link #run} on another thread: for a command that runs while the test does something else. */
    public static java.util.concurrent.CompletableFuture<AgentCli> async(Jdk jdk, String... args) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return run(jdk, args);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Override
    public String toString() {
        return "exit " + exit + ":\n" + output;
    }
}
