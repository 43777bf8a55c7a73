import java.util.Properties;

/**
 * Wall time of one attach + one request ("properties") to each pid given, through one of three clients of HotSpot's
 * attach protocol, in this one JVM (so class loading is counted once, at the first pid):
 *   jdk       com.sun.tools.attach.VirtualMachine (the jdk.attach module)
 *   bytebuddy net.bytebuddy.agent.VirtualMachine.ForHotSpot (byte-buddy-agent's own protocol; needs JNA)
 *   own       mptcp-agent's cli.attach (Target, InTarget, HotSpot), from the agent jar's own loader
 * Prints "METHOD pid ms" per pid.
 *   java [-cp byte-buddy-agent.jar:jna.jar:.] AttachBench METHOD AGENT_JAR PID...
 */
public final class AttachBench {
    public static void main(String[] args) throws Throwable {
        String method = args[0];
        ClassLoader agent = null;
        if (method.equals("own")) {
            java.net.URLClassLoader jar = new java.net.URLClassLoader(new java.net.URL[] {new java.io.File(args[1]).toURI().toURL()},
                    ClassLoader.getPlatformClassLoader());
            agent = (ClassLoader) jar.loadClass("mptcp.agent.boot.Launcher").getMethod("loader", boolean.class).invoke(null, false);
        }
        for (int i = 2; i < args.length; i++) {
            long start = System.nanoTime();
            Properties p;
            switch (method) {
                case "jdk": {
                    com.sun.tools.attach.VirtualMachine vm = com.sun.tools.attach.VirtualMachine.attach(args[i]);
                    p = vm.getSystemProperties();
                    vm.detach();
                    break;
                }
                case "bytebuddy": {
                    net.bytebuddy.agent.VirtualMachine vm = net.bytebuddy.agent.VirtualMachine.ForHotSpot.attach(args[i]);
                    p = vm.getSystemProperties();
                    vm.detach();
                    break;
                }
                default: {
                    Class<?> target = Class.forName("mptcp.agent.cli.attach.Target", true, agent);
                    Class<?> inTarget = Class.forName("mptcp.agent.cli.attach.InTarget", true, agent);
                    Class<?> deadline = Class.forName("mptcp.agent.cli.attach.Deadline", true, agent);
                    Class<?> hotSpot = Class.forName("mptcp.agent.cli.attach.HotSpot", true, agent);
                    Object t = target.getMethod("of", long.class).invoke(null, Long.parseLong(args[i]));
                    Object files = inTarget.getMethod("open", target).invoke(null, t);
                    Object d = deadline.getMethod("in", long.class).invoke(null, 10_000L);
                    Object vm = hotSpot.getMethod("connect", target, inTarget, deadline).invoke(null, t, files, d);
                    p = (Properties) hotSpot.getMethod("properties", deadline).invoke(vm, deadline.getMethod("in", long.class).invoke(null, 10_000L));
                    ((AutoCloseable) vm).close();
                    ((AutoCloseable) files).close();
                }
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            if (p.getProperty("java.version") == null) {
                throw new AssertionError("no properties from " + args[i]);
            }
            System.out.println(method + " " + args[i] + " " + ms);
        }
    }
}
