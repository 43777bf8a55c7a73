package mptcp.agent.config;

/** What this jar is, and how a JVM shows that an agent of it is installed. */
public final class Build {
    private static final java.util.Properties PROPERTIES = properties();
    /** The agent's version, from the jar's mptcp-agent.properties. */
    public static final String VERSION = PROPERTIES.getProperty("version", "dev");
    /**
     * This build of the agent: its version and build time (a rebuilt jar has a new one; its class cache too). "dev"
     * builds without the property get a fresh id per JVM, so nothing is ever shared between unknown builds.
     */
    public static final String ID = id();
    /** Set in the target JVM once installed: "version; options". Read by attach and status. */
    public static final String ACTIVE_PROPERTY = "mptcp-agent.active";
    /**
     * Set in the target JVM by an attach that looked at the listeners the application already had: one line per
     * listener (converted to MPTCP, or kept TCP and why), "\n"-separated. Printed by the attach command.
     */
    public static final String LISTENERS_PROPERTY = "mptcp-agent.listeners";

    private Build() {
    }

    /** The options of the agent installed in this JVM ("key=value,..."), from {@link #ACTIVE_PROPERTY}; "" if none. */
    public static String activeOptions() {
        String active = System.getProperty(ACTIVE_PROPERTY, "");
        return active.substring(active.indexOf(';') + 1).trim();
    }

    private static java.util.Properties properties() {
        java.util.Properties p = new java.util.Properties();
        try (java.io.InputStream in = Build.class.getClassLoader().getResourceAsStream("mptcp-agent.properties")) {
            p.load(in);
        } catch (Exception e) {
            // "dev" below
        }
        return p;
    }

    private static String id() {
        String time = PROPERTIES.getProperty("build", "");
        if (time.isEmpty() || time.startsWith("$")) {
            return "dev-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        }
        return VERSION + "-" + time;
    }
}
