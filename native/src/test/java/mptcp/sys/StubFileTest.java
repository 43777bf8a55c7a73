package mptcp.sys;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The check that the stub jffi mapped is the file the agent checked (/proc/self/maps lines). */
class StubFileTest {
    private static final String MAPS = String.join("\n",
            "7f0a1c000000-7f0a1c021000 rw-p 00000000 00:00 0 ",
            "7f0a2b3c4000-7f0a2b3c6000 r--p 00000000 fe:00 2146698                    /home/a/.cache/mptcp-agent/0.1.0-x/libjffi-1.2.so",
            "7f0a2b3c6000-7f0a2b3d3000 r-xp 00002000 fe:00 2146698                    /home/a/.cache/mptcp-agent/0.1.0-x/libjffi-1.2.so",
            "7f0a2b3e0000-7f0a2b3e2000 r-xp 00002000 fe:00 99                         /opt/app/lib/libjffi-1.2.so.bak",
            "7f0a2b3f0000-7f0a2b3f2000 r-xp 00002000 00:2a 4242                       /tmp/mptcp-agent-jffi-17a/libjffi-1.2.so (deleted)",
            "7f0a2b400000-7f0a2b401000 r-xp 00000000 08:01 77                         /usr/lib/x86_64-linux-gnu/libc.so.6",
            "7ffd1e5e0000-7ffd1e601000 rw-p 00000000 00:00 0                          [stack]");

    @Test
    void theCheckedInodeMustBeMappedUnderTheStubsName() {
        assertTrue(StubFile.mapped(MAPS, 2146698), "the kept stub");
        assertTrue(StubFile.mapped(MAPS, 4242), "a one-load copy, deleted once loaded");
        assertFalse(StubFile.mapped(MAPS, 2146699), "another file at that path");
        assertFalse(StubFile.mapped(MAPS, 99), "another name that only starts like the stub's");
        assertFalse(StubFile.mapped(MAPS, 77), "the inode of another library");
        assertFalse(StubFile.mapped(MAPS, 0));
        assertFalse(StubFile.mapped("", 2146698));
    }
}
