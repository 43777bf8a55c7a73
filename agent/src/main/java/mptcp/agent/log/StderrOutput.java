package mptcp.agent.log;

/** The default: one line per message on the JVM's stderr, {@code mptcp-agent: LEVEL: message}. */
public final class StderrOutput implements Output {
    public static final StderrOutput INSTANCE = new StderrOutput();

    private StderrOutput() {
    }

    @Override
    public void write(Log.Level level, String message) {
        System.err.println("mptcp-agent: " + level + ": " + message);
    }
}
