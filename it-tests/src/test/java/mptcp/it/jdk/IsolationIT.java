package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** An app bringing its own byte-buddy, jnr-ffi/jffi, ASM, slf4j+logback runs unchanged under the agent. */
class IsolationIT {

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void appWithItsOwnLibrariesRunsUnchanged(Jdk jdk) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, List.of(ChildJvm.loopbackAgentArg("log=info")), "mptcp.it.apps.IsolationApp")) {
            app.expect("READY");
            List<String> out = app.stdoutLines();
            assertTrue(out.contains("APPLOG INFO IsolationApp app started"), app.output());
            assertTrue(out.contains("APPLOG INFO IsolationApp sockets open"), app.output());
            assertTrue(out.contains("BYTEBUDDY made by the app's byte-buddy from byte-buddy-1.18.12.jar"), app.output());
            assertTrue(out.contains("JNR getpid ok from jnr-ffi-2.2.15.jar and jffi-1.3.12.jar"), app.output());
            assertTrue(out.contains("ASM from asm-9.4.jar"), app.output());
            List<String> hidden = List.of("mptcp.agent.Agent", "mptcp.sys.Sock", "mptcp.agent.policy.Sockets");
            for (String c : hidden) {
                assertTrue(out.contains("HIDDEN " + c), app.output());
                // the class exists (in the agent's own packed form, inst/classes.blob): hidden, not merely renamed away
                assertTrue(packedClassNames().contains(c), c + " not in the agent jar");
            }
            assertTrue(out.stream().noneMatch(l -> l.contains("mptcp-agent")), "agent output went through the app's logging: " + out);
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(0, s.stream().filter(e -> e.protocol.equals("tcp")).count(), s.toString());
            assertEquals(1, Ss.count(s, "mptcp", "LISTEN"), s.toString());
            app.finish();
            assertTrue(app.agentLines().stream().anyMatch(l -> l.startsWith("mptcp-agent: INFO: active")), app.output());
        }
    }

    /** The class names in the agent jar's inst/classes.blob (magic, count, names length, 5-int records, names). */
    static java.util.Set<String> packedClassNames() throws java.io.IOException {
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(ChildJvm.AGENT.toFile())) {
            java.util.zip.ZipEntry e = jar.getEntry("inst/classes.blob");
            assertTrue(e != null, "no inst/classes.blob in " + ChildJvm.AGENT);
            try (java.io.DataInputStream in = new java.io.DataInputStream(jar.getInputStream(e))) {
                byte[] magic = in.readNBytes(8);
                assertEquals("MPTCPCB1", new String(magic, java.nio.charset.StandardCharsets.US_ASCII));
                int count = in.readInt();
                int namesLength = in.readInt();
                int[][] records = new int[count][5];
                for (int[] r : records) {
                    for (int i = 0; i < 5; i++) {
                        r[i] = in.readInt();
                    }
                }
                byte[] names = in.readNBytes(namesLength);
                java.util.Set<String> out = new java.util.HashSet<>();
                for (int[] r : records) {
                    out.add(new String(names, r[0], r[1], java.nio.charset.StandardCharsets.US_ASCII));
                }
                return out;
            }
        }
    }
}
