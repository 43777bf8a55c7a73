package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The command line as the README shows it: --version, --help, bad commands, and the loopback demo. */
class CliIT {

    @Test
    void versionHelpAndUnknownCommand() throws Exception {
        AgentCli version = AgentCli.run(Jdk.JDK17, "--version");
        assertEquals(0, version.exit, version.toString());
        assertTrue(version.output.matches("mptcp-agent \\d+\\.\\d+\\.\\d+\\s*"), version.toString());

        AgentCli help = AgentCli.run(Jdk.JDK17, "--help");
        assertEquals(0, help.exit, help.toString());
        for (String key : new String[] {"enabled", "mode", "fallback", "log", "attach <pid>"}) {
            assertTrue(help.output.contains(key), key + " missing in --help: " + help);
        }

        AgentCli unknown = AgentCli.run(Jdk.JDK17, "atach", "1");
        assertEquals(2, unknown.exit, unknown.toString());
        assertTrue(unknown.output.contains("unknown command 'atach'"), unknown.toString());
    }

    /** The README's first command: two JVMs on loopback, both ends MPTCP as the kernel reports them. */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void demoShowsBothEndsMptcp(Jdk jdk) throws Exception {
        AgentCli demo = AgentCli.run(jdk, "demo");
        assertEquals(0, demo.exit, demo.toString());
        assertTrue(demo.output.contains("Result: both ends of the connection are MPTCP"), demo.toString());
        assertEquals(2, demo.output.lines().filter(l -> l.contains("SO_PROTOCOL=262 (MPTCP)  TCP_IS_MPTCP=1")).count(),
                demo.toString());
    }
}
