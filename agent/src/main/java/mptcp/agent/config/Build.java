package mptcp.agent.config;

/** What this jar is, and how a JVM shows that an agent of it is installed. */
public final class Build {
    /** The agent's version, from the jar's mptcp-agent.properties. */
    public static final String VERSION = version();
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

    private static String version() {
        try (java.io.InputStream in = Build.class.getClassLoader().getResourceAsStream("mptcp-agent.properties")) {
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version", "dev");
        } catch (Exception e) {
            return "dev";
        }
    }
}
