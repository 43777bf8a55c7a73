package mptcp.agent.report;

/**
 * The target side of {@code status <pid>}: the CLI loads the agent jar again into the JVM with the argument
 * {@code @status=<nonce>}; the agent already running there (same class loader) computes its {@link Report} and
 * publishes its wire form as the system property {@code mptcp-agent.status.<nonce>}, which the CLI reads through the
 * attach API and then has removed ({@code @status-done=<nonce>}). No management agent, port or thread is started.
 */
public final class StatusRequest {
    public static final String REQUEST = "@status=";
    public static final String DONE = "@status-done=";
    public static final String PROPERTY = "mptcp-agent.status.";

    private StatusRequest() {
    }

    /** True when {@code args} (agentmain arguments) are a status request rather than agent options. */
    public static boolean is(String args) {
        return args != null && (args.startsWith(REQUEST) || args.startsWith(DONE));
    }

    public static void handle(String args) {
        if (args.startsWith(DONE)) {
            System.clearProperty(PROPERTY + nonce(args.substring(DONE.length())));
            return;
        }
        String nonce = nonce(args.substring(REQUEST.length()));
        // at most one report is ever left behind (if a status command died before clearing its own)
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith(PROPERTY)) {
                System.clearProperty(name);
            }
        }
        String report;
        try {
            report = StatusReport.now().wire();
        } catch (Throwable t) {
            report = "error: " + t + "\n";
        }
        System.setProperty(PROPERTY + nonce, report);
    }

    private static String nonce(String s) {
        if (!s.matches("[0-9a-f]{1,32}")) {
            throw new IllegalArgumentException("bad status nonce");
        }
        return s;
    }
}
