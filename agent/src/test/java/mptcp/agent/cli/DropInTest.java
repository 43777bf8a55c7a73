package mptcp.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unit files and drop-ins under a temporary root, read with systemd's rules. */
class DropInTest {
    @TempDir
    Path root;

    private Path write(String path, String text) throws IOException {
        Path p = root.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
        return p;
    }

    @Test
    void serviceNames() {
        assertEquals("app.service", DropIn.serviceName("app"));
        assertEquals("app.service", DropIn.serviceName("app.service"));
        assertEquals("app@1.service", DropIn.serviceName("app@1"));
        assertNull(DropIn.serviceName("app.socket"));
        assertNull(DropIn.serviceName("../etc/passwd"));
        assertNull(DropIn.serviceName("a b"));
    }

    @Test
    void wordsFollowSystemdQuoting() {
        assertEquals(List.of("A=1", "B=two words", "C=x\"y", "D=it's"),
                DropIn.words("A=1 \"B=two words\" \"C=x\\\"y\" 'D=it'\\''s'"));
        assertEquals(List.of("JAVA_TOOL_OPTIONS=-Xmx1g -Dx=%i"), DropIn.words("\"JAVA_TOOL_OPTIONS=-Xmx1g -Dx=%i\""));
    }

    @Test
    void keepsJavaToolOptionsOfTheUnitAndItsDropIns() throws IOException {
        Path unit = write("lib/systemd/system/app.service", "[Unit]\nDescription=x\n[Service]\n"
                + "Environment=\"JAVA_TOOL_OPTIONS=-Xmx64m\" OTHER=1\nExecStart=/usr/bin/java -jar /opt/app.jar\n");
        DropIn.Unit u = DropIn.read(root, "app.service");
        assertEquals(unit, u.fragment);
        assertEquals("-Xmx64m", u.javaToolOptions);
        assertEquals("/usr/bin/java", u.execStart);
        assertTrue(DropIn.isJvm(u.execStart));

        Path later = write("etc/systemd/system/app.service.d/10-heap.conf",
                "[Service]\nEnvironment=JAVA_TOOL_OPTIONS=-Xmx128m\\\n  \"FOO=bar\"\n");
        write("etc/systemd/system/app.service.d/99-mptcp-agent.conf", "[Service]\nEnvironment=JAVA_TOOL_OPTIONS=ours\n");
        u = DropIn.read(root, "app.service");
        assertEquals("-Xmx128m", u.javaToolOptions, "the later drop-in wins; ours is left out");
        assertEquals(later, u.javaToolOptionsFrom);
        assertEquals(1, u.dropIns.size());

        String text = DropIn.content(u, "/opt/mptcp-agent.jar", "mode=server", "java -jar x enable app");
        assertTrue(text.contains("[Service]\nEnvironment=\"JAVA_TOOL_OPTIONS=-Xmx128m -javaagent:/opt/mptcp-agent.jar=mode=server\"\n"), text);
    }

    @Test
    void emptyEnvironmentResetsAndQuotesAreEscapedOnWrite() throws IOException {
        write("etc/systemd/system/app.service", "[Service]\nEnvironment=JAVA_TOOL_OPTIONS=-Xmx1g\nEnvironment=\n"
                + "Environment=\"JAVA_TOOL_OPTIONS=-Dgreeting=\\\"hi there\\\" -Dinst=%i\"\nExecStart=/opt/run.sh\n");
        DropIn.Unit u = DropIn.read(root, "app.service");
        assertEquals("-Dgreeting=\"hi there\" -Dinst=%i", u.javaToolOptions);
        assertFalse(DropIn.isJvm(u.execStart));
        String text = DropIn.content(u, "/opt/100%/mptcp-agent.jar", "", "c");
        assertTrue(text.contains("Environment=\"JAVA_TOOL_OPTIONS=-Dgreeting=\\\"hi there\\\" -Dinst=%i"
                + " -javaagent:/opt/100%%/mptcp-agent.jar\"\n"), text);
        // read back what we wrote: the same value (with the jar's '%' doubled, as systemd un-doubles it)
        write("etc/systemd/system/app.service.d/50-copy.conf", text);
        assertEquals("-Dgreeting=\"hi there\" -Dinst=%i -javaagent:/opt/100%%/mptcp-agent.jar",
                DropIn.read(root, "app.service").javaToolOptions);
    }

    @Test
    void templatesAndMasking() throws IOException {
        write("lib/systemd/system/app@.service", "[Service]\nExecStart=/usr/bin/java -jar /opt/%i.jar\n");
        write("lib/systemd/system/app@.service.d/10-x.conf", "[Service]\nEnvironment=JAVA_TOOL_OPTIONS=-Dlib=1\n");
        write("etc/systemd/system/app@.service.d/10-x.conf", "[Service]\nEnvironment=JAVA_TOOL_OPTIONS=-Detc=1\n");
        DropIn.Unit u = DropIn.read(root, "app@one.service");
        assertEquals("-Detc=1", u.javaToolOptions, "/etc masks the same drop-in name in /lib");
        assertEquals(1, u.dropIns.size());
        assertNull(DropIn.read(root, "nope.service"));
    }

    @Test
    void detectsTheAgentAlreadyLoadedAndEnvironmentFiles() throws IOException {
        assertTrue(DropIn.loadsAgent("-Xmx1g -javaagent:/opt/mptcp-agent.jar=mode=server"));
        assertTrue(DropIn.loadsAgent("-javaagent:/x/mptcp-agent-0.1.0.jar"));
        assertFalse(DropIn.loadsAgent("-javaagent:/opt/other.jar"));
        write("etc/systemd/system/app.service", "[Service]\nEnvironmentFile=-/etc/default/app\nExecStart=/usr/bin/java\n");
        assertEquals(List.of("/etc/default/app"), DropIn.read(root, "app.service").environmentFiles);
        assertTrue(DropIn.setsJavaToolOptions("# x\nexport JAVA_TOOL_OPTIONS=-Xmx1g\n"));
        assertFalse(DropIn.setsJavaToolOptions("JAVA_OPTS=-Xmx1g\n"));
    }

    @Test
    void agentOptionQuotedWhenThePathHasSpaces() {
        assertEquals("-javaagent:/opt/mptcp-agent.jar", DropIn.agentOption("/opt/mptcp-agent.jar", ""));
        assertEquals("'-javaagent:/opt/my apps/mptcp-agent.jar=mode=server'",
                DropIn.agentOption("/opt/my apps/mptcp-agent.jar", "mode=server"));
        assertTrue(DropIn.loadsAgent("-Xmx1g '-javaagent:/opt/my apps/mptcp-agent.jar=mode=server'".replace("my apps", "apps")));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> DropIn.agentOption("/opt/it's here/mptcp-agent.jar", ""));
    }
}
