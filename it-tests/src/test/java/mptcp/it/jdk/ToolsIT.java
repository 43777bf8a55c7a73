package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** With JAVA_TOOL_OPTIONS=-javaagent:..., JDK tools are left alone while applications get the agent. */
class ToolsIT {

    /** Runs {@code cmd} with the agent in JAVA_TOOL_OPTIONS and EOF on stdin (the apps exit after READY). */
    private static String run(List<String> cmd) throws Exception {
        Proc p = Proc.run(cmd, Map.of("JAVA_TOOL_OPTIONS", ChildJvm.loopbackAgentArg("log=debug")), 60);
        assertEquals(0, p.exit, p.toString());
        return p.output;
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void jdkToolsAreLeftAlone(Jdk jdk) throws Exception {
        List<List<String>> tools = new ArrayList<>();
        tools.add(List.of(jdk.tool("javac"), "-version"));
        tools.add(List.of(jdk.tool("jar"), "--version"));
        tools.add(List.of(jdk.tool("jps"), "-q"));
        tools.add(List.of(jdk.tool("jcmd"), "-l"));
        tools.add(List.of(jdk.tool("keytool"), "-help"));
        tools.add(List.of(jdk.tool("jshell"), "--version"));
        for (List<String> tool : tools) {
            String out = run(tool);
            assertTrue(out.contains("Picked up JAVA_TOOL_OPTIONS"), tool + ": " + out);
            assertFalse(out.contains("mptcp-agent: "), tool + " was instrumented: " + out);
        }
        String app = run(List.of(jdk.java(), "-cp", ChildJvm.CLASSPATH, "mptcp.it.apps.Launch", "mptcp.it.apps.SocketApp", "socket"));
        assertTrue(app.contains("\nJVM " + jdk.feature + " "), "the app runs on " + jdk + ": " + app);
        assertTrue(app.contains("mptcp-agent: DEBUG: ") && app.contains("created as MPTCP"), "an application gets the agent: " + app);
    }
}
