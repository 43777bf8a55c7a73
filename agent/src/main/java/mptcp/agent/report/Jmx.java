package mptcp.agent.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;
import javax.management.ReflectionException;

import mptcp.agent.log.Log;
import mptcp.agent.paths.Paths;
import mptcp.agent.policy.Sockets;

/**
 * The MBean {@code mptcp.agent:type=Agent}: every counter of {@link Stats} as a read-only attribute of the same name
 * (Long), plus {@code version}, {@code config} and {@code mptcp_available} (String), and an operation {@code status()}
 * returning the text of {@code status <pid>}.
 *
 * <p>Registered lazily: the agent never creates the platform MBean server itself, because doing so initializes
 * java.util.logging's LogManager, which breaks applications that install their own logging manager later
 * ({@code -Djava.util.logging.manager} set in main, e.g. JBoss LogManager). A daemon thread, {@code mptcp-agent-jmx},
 * looks every 2 seconds whether the platform MBean server exists yet (created by the application, by
 * {@code -Dcom.sun.management.jmxremote}, by a jmx_exporter agent, by jconsole or {@code jcmd ManagementAgent.start})
 * through {@link MBeanServerFactory#findMBeanServer}, which creates nothing; once it does, it registers the MBean and
 * ends.
 *
 * <p>A runtime without the {@code java.management} module (a jlink'd image of {@code java.base,java.instrument}) has
 * no JMX at all: then nothing of javax.management is ever touched (this class names it only in {@link Bean}, a class
 * apart that is loaded only once the module is known to be there), the watcher ends at once without a word (DEBUG
 * only) and status says {@code jmx: unavailable (no java.management module in this runtime)}.
 */
public final class Jmx {
    static final String NAME = "mptcp.agent:type=Agent";
    /** How often the watcher looks for the platform MBean server (a compile-time constant: reading it loads nothing). */
    public static final long PERIOD_MS = 2000;
    static final String UNAVAILABLE = "unavailable (no java.management module in this runtime)";
    private static volatile String state;
    private static volatile boolean started;

    private Jmx() {
    }

    static String state() {
        String s = state;
        return s != null ? s : available() ? "waiting for the platform MBean server (the agent never creates it)"
                : UNAVAILABLE;
    }

    /** Whether this runtime has javax.management (a jlink'd one may not). */
    private static boolean available() {
        return ModuleLayer.boot().findModule("java.management").isPresent();
    }

    /**
     * Runs the watcher on the calling thread, renamed {@code mptcp-agent-jmx} (once per JVM; returns at once else): a
     * look now, then one every {@link #PERIOD_MS}. The caller waits one period before calling it. Never throws.
     */
    public static void watchHere() {
        if (claim()) {
            Thread.currentThread().setName("mptcp-agent-jmx");
            try {
                watch();
            } catch (Throwable t) {
                state = "not registered: " + t;
                Log.warn("cannot register MBean " + NAME + ": " + t);
            }
        }
    }

    private static synchronized boolean claim() {
        if (started) {
            return false;
        }
        started = true;
        return true;
    }

    private static void watch() {
        if (!available()) {
            state = UNAVAILABLE;
            Log.debug("JMX " + UNAVAILABLE + ": no MBean");
            return;
        }
        while (true) {
            try {
                if (Bean.tryRegister()) {
                    return;
                }
                Paths.pause(PERIOD_MS); // the per-path sampling runs on this thread meanwhile
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                state = "not registered: " + e;
                Log.warn("cannot register MBean " + NAME + ": " + e);
                return;
            }
        }
    }

    /** The MBean itself: the only class of the agent that names javax.management. */
    static final class Bean implements DynamicMBean {
        private Bean() {
        }

        /** Registers the MBean if the platform MBean server exists. */
        static boolean tryRegister() throws Exception {
            ObjectName runtime = new ObjectName("java.lang:type=Runtime");
            for (MBeanServer s : MBeanServerFactory.findMBeanServer(null)) {
                if (s.isRegistered(runtime)) {
                    // the platform server exists: this call only returns it
                    MBeanServer platform = java.lang.management.ManagementFactory.getPlatformMBeanServer();
                    ObjectName name = new ObjectName(NAME);
                    if (!platform.isRegistered(name)) {
                        platform.registerMBean(new Bean(), name);
                    }
                    state = "registered " + NAME;
                    Log.debug("MBean " + NAME + " registered");
                    return true;
                }
            }
            return false;
        }

        @Override
        public Object getAttribute(String attribute) throws AttributeNotFoundException {
            Object v = attribute.equals("mptcp_available") ? Sockets.available() : StatusReport.values(false).get(attribute);
            if (v == null && attribute.startsWith("path_")) {
                v = Paths.attributes().get(attribute);
            }
            if (v == null) {
                throw new AttributeNotFoundException(attribute);
            }
            return v;
        }

        @Override
        public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
            throw new AttributeNotFoundException(attribute.getName() + " is read-only");
        }

        @Override
        public AttributeList getAttributes(String[] attributes) {
            AttributeList out = new AttributeList();
            for (String a : attributes) {
                try {
                    out.add(new Attribute(a, getAttribute(a)));
                } catch (AttributeNotFoundException ignored) {
                    // JMX convention: unknown names are left out
                }
            }
            return out;
        }

        @Override
        public AttributeList setAttributes(AttributeList attributes) {
            return new AttributeList(); // nothing is writable
        }

        @Override
        public Object invoke(String actionName, Object[] params, String[] signature) throws ReflectionException {
            if (actionName.equals("status") && (params == null || params.length == 0)) {
                return Render.render(StatusReport.now().headed(String.valueOf(ProcessHandle.current().pid())), false);
            }
            throw new ReflectionException(new NoSuchMethodException(actionName));
        }

        @Override
        public MBeanInfo getMBeanInfo() {
            List<MBeanAttributeInfo> attributes = new ArrayList<>();
            for (Map.Entry<String, Object> e : StatusReport.values(false).entrySet()) {
                boolean text = e.getValue() instanceof String;
                attributes.add(new MBeanAttributeInfo(e.getKey(), text ? "java.lang.String" : "java.lang.Long",
                        text ? e.getKey() : "counter " + e.getKey(), true, false, false));
            }
            for (String name : Paths.attributes().keySet()) {
                attributes.add(new MBeanAttributeInfo(name, "java.lang.Long", name.startsWith("path_subflows_")
                        ? "gauge: subflows open now on this interface" : "counter " + name, true, false, false));
            }
            attributes.add(new MBeanAttributeInfo("mptcp_available", "java.lang.String",
                    "yes, or no (why): whether this JVM can create MPTCP sockets now", true, false, false));
            MBeanOperationInfo status = new MBeanOperationInfo("status", "the text of: java -jar mptcp-agent.jar status <pid>",
                    new MBeanParameterInfo[0], "java.lang.String", MBeanOperationInfo.INFO);
            return new MBeanInfo(Jmx.class.getName(), "mptcp-agent: what the agent converted and what the kernel negotiated",
                    attributes.toArray(new MBeanAttributeInfo[0]), null, new MBeanOperationInfo[] {status}, null);
        }
    }
}
