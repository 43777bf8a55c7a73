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
    /**
     * Set in the target JVM once the agent installed (by -javaagent or attach), and kept set for the life of the JVM:
     * {@code "<version>; <options in force>"}, the options as {@code key=value,...} starting with {@code enabled=}.
     * After a run-time {@code enabled=false} (the roll-back) the value reads {@code "<version>; enabled=false,..."}:
     * the agent is loaded but switched off ({@link #enabled}). Read by attach and status; {@code attach --all --watch}
     * never attaches where it is set, so that a rolled-back JVM is not turned on again.
     */
    public static final String ACTIVE_PROPERTY = "mptcp-agent.active";
    /**
     * Set in the target JVM by an agent of this build as soon as it starts, installed or not: the requests it answers
     * ({@code "attach status"}; see report.AttachRequest). An active agent without it is an older build, which takes
     * no run-time change: attach then sends it nothing.
     */
    public static final String REQUESTS_PROPERTY = "mptcp-agent.requests";
    /**
     * Set in the target JVM by an attach that looked at the listeners the application already had: one line per
     * listener (converted to MPTCP, or kept TCP and why), "\n"-separated. Printed by the attach command.
     */
    public static final String LISTENERS_PROPERTY = "mptcp-agent.listeners";

    private Build() {
    }

    /** The options of the agent installed in this JVM ("key=value,..."), from {@link #ACTIVE_PROPERTY}; "" if none. */
    public static String activeOptions() {
        return options(System.getProperty(ACTIVE_PROPERTY, ""));
    }

    /** The options part of a value of {@link #ACTIVE_PROPERTY} (this JVM's or another's). */
    public static String options(String activeValue) {
        return activeValue.substring(activeValue.indexOf(';') + 1).trim();
    }

    /**
     * Whether a value of {@link #ACTIVE_PROPERTY} says the agent is switched on (null: not installed, false); false
     * after a run-time {@code enabled=false}.
     */
    public static boolean enabled(String activeValue) {
        return activeValue != null && !options(activeValue).startsWith("enabled=false");
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
