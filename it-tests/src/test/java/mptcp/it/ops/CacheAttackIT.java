package mptcp.it.ops;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 21, item 1: another user must not get code into a service's JVM through the agent's class cache or jffi's
 * stub. A service of uid A runs with {@code XDG_CACHE_HOME=D}, where D is a directory another uid B can rename
 * entries in: {@code mkdir -m 0777 D} (world-writable, no sticky bit), or a sticky directory that B owns. B has run
 * the agent once with the same JDK (so it knows the entries' names) and made an evil tree: the genuine entries with a
 * static initialiser that prints a marker, and a stub whose constructor prints one. B then swaps {@code D/mptcp-agent}
 * for a link to that tree after A checked its cache and before A's first socket, or exchanges the two directories in
 * a loop ({@code renameat2(RENAME_EXCHANGE)}, a small C program) while A starts again and again. B's code must never
 * run in A's JVM, and A's sockets must be MPTCP (read from the kernel: ss). Also: A's own private directory below a
 * root-owned sticky directory (like /tmp, java.io.tmpdir here) is trusted and used.
 *
 * <p>Runs as root, the two users by {@code setpriv}; the application is {@code apps.CacheVictim} (JDK classes only)
 * from a world-readable copy of its class files.
 */
class CacheAttackIT {
    private static final int A = 40011;
    private static final int B = 40012;
    private static final String MARKER = "MPTCP-IT-CODE-OF-UID-" + B;

    @TempDir
    Path dir;
    private Path classes;
    private Path agent;

    enum Shared {
        /** mkdir -m 0777 D: anyone may rename its entries. */
        WORLD_WRITABLE,
        /** a sticky directory owned by B: its owner may rename any entry. */
        ATTACKER_OWNED_STICKY
    }

    @BeforeEach
    void setUp() throws Exception {
        Prerequisites.require("cache attack test", Prerequisites.missing(List.of("setpriv", "gcc", "chown")));
        chmod(dir, "755");
        // the application and the agent where uids A and B can read them (the test class path is below /root)
        Path apps = Files.createDirectories(dir.resolve("classes/mptcp/it/apps"));
        Path compiled = Path.of(mptcp.it.apps.CacheVictim.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("mptcp/it/apps");
        for (String c : List.of("Launch.class", "CacheVictim.class")) {
            Files.copy(compiled.resolve(c), apps.resolve(c));
        }
        classes = dir.resolve("classes");
        agent = Files.copy(ChildJvm.AGENT, dir.resolve("mptcp-agent.jar"));
        Proc.check(List.of("chmod", "-R", "a+rX", classes.toString(), agent.toString()));
    }

    private static void chmod(Path p, String mode) throws Exception {
        Proc.check(List.of("chmod", mode, p.toString()));
    }

    private static void chown(Path p, int uid) throws Exception {
        Proc.check(List.of("chown", "-R", uid + ":" + uid, p.toString()));
    }

    /** A directory owned by {@code uid}, mode 0700. */
    private Path own(String name, int uid) throws Exception {
        Path p = Files.createDirectory(dir.resolve(name));
        chown(p, uid);
        chmod(p, "700");
        return p;
    }

    /** {@code CacheVictim [wait]} on {@code jdk} as {@code uid}, with this XDG_CACHE_HOME and java.io.tmpdir. */
    private ChildJvm victim(Jdk jdk, int uid, Path cacheHome, Path tmp, boolean waitFirst) throws IOException,
            InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
                jdk.java(), "-XX:-UsePerfData", "-Djava.io.tmpdir=" + tmp,
                "-javaagent:" + agent + "=" + ChildJvm.LOOPBACK_MPTCP, "-cp", classes.toString(),
                "mptcp.it.apps.Launch", "mptcp.it.apps.CacheVictim"));
        if (waitFirst) {
            cmd.add("wait");
        }
        ChildJvm app = ChildJvm.command(cmd, Map.of("XDG_CACHE_HOME", cacheHome.toString())).named("java@uid" + uid);
        String version = app.expect("JVM ");
        assertTrue(version.startsWith("JVM " + jdk.feature + " "), version);
        return app;
    }

    /** Lets {@code app} (at READY) go: its sockets must be MPTCP (the kernel's view), no marker, exit 0. */
    private static void assertMptcpAndClean(ChildJvm app) throws Exception {
        try {
            CacheFiles.assertVictimMptcp(app);
        } finally {
            assertFalse(app.output().contains(MARKER), "B's code ran in A's JVM:\n" + app.output());
        }
    }

    /**
     * B learns the entries' names by running the agent once with the same JDK, then makes its evil tree: every class
     * entry with the marker in its static initialiser, and a stub of its own; returned as evil/, holding
     * {@code <build>/}.
     */
    private Path evilTree(Jdk jdk) throws Exception {
        Path home = own("b-home", B);
        Path bCache = Files.createDirectory(home.resolve("cache"));
        Path bTmp = Files.createDirectory(home.resolve("tmp"));
        chown(home, B);
        try (ChildJvm learn = victim(jdk, B, bCache, bTmp, false)) {
            learn.expect("READY");
            learn.send("");
            assertEquals(0, learn.exit(30_000), learn.output());
        }
        Path build = CacheFiles.buildDir(bCache.resolve("mptcp-agent"));
        Path evil = Files.createDirectories(home.resolve("evil").resolve(build.getFileName()));
        int classes = 0;
        for (Path entry : CacheFiles.files(build)) {
            if (entry.toString().endsWith(".class")) {
                CacheFiles.writeEntry(evil.resolve(entry.getFileName()),
                        CacheFiles.withMarker(CacheFiles.classOf(entry), MARKER + " " + entry.getFileName()));
                classes++;
            }
        }
        assertTrue(classes >= 4, "B learned the hook, the dispatch class and the rewritten JDK classes: " + classes);
        CacheFiles.writeMarkerStub(evil, MARKER + " stub");
        chown(home, B);
        chmod(home, "755"); // B lets A read its tree: the link must lead somewhere A can read
        Proc.check(List.of("chmod", "-R", "a+rX", home.resolve("evil").toString()));
        return home.resolve("evil");
    }

    private Path shared(Shared kind) throws Exception {
        Path d = Files.createDirectory(dir.resolve("D"));
        if (kind == Shared.WORLD_WRITABLE) {
            chmod(d, "0777");
        } else {
            chmod(d, "1777");
            chown(d, B);
        }
        return d;
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void aSwapAfterTheCheckNeverRunsTheOtherUsersCode(Jdk jdk) throws Exception {
        Path evil = evilTree(jdk);
        for (Shared kind : Shared.values()) {
            Path d = shared(kind);
            Path aTmp = own("a-tmp", A); // below /tmp and a root-owned 0755 directory: trusted
            try (ChildJvm app = victim(jdk, A, d, aTmp, true)) {
                app.expect("STARTED"); // premain over: the agent has looked at its cache
                Proc swap = Proc.run(List.of("setpriv", "--reuid=" + B, "--regid=" + B, "--clear-groups", "sh", "-c",
                        "if [ -e " + d + "/mptcp-agent ]; then mv " + d + "/mptcp-agent " + d + "/x; fi; ln -s " + evil
                                + " " + d + "/mptcp-agent"),
                        Map.of(), 30);
                assertEquals(0, swap.exit, swap.output);
                assertTrue(Files.isSymbolicLink(d.resolve("mptcp-agent")));
                app.send("");
                assertMptcpAndClean(app);
            }
            assertTrue(CacheFiles.files(aTmp).stream().anyMatch(p -> p.getFileName().toString().startsWith("sun.nio.ch.Net-")),
                    kind + ": A kept its classes in its own directory under java.io.tmpdir instead: "
                            + CacheFiles.files(aTmp));
            Proc.check(List.of("rm", "-rf", d.toString(), aTmp.toString()));
        }
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void aRenameExchangeLoopNeverRunsTheOtherUsersCode(Jdk jdk) throws Exception {
        Path evil = evilTree(jdk);
        Path d = shared(Shared.WORLD_WRITABLE);
        Path aTmp = own("a-tmp", A);
        try (ChildJvm first = victim(jdk, A, d, aTmp, false)) { // A's own cache in D, where an agent would put it
            assertMptcpAndClean(first);
        }
        Path exchange = dir.resolve("exchange");
        Path c = Files.writeString(dir.resolve("exchange.c"), String.join("\n",
                "#define _GNU_SOURCE",
                "#include <stdio.h>",
                "#include <stdlib.h>",
                "#include <fcntl.h>",
                "#include <errno.h>",
                "#include <time.h>",
                "/* swaps argv[1] and argv[2] for argv[3] seconds; when argv[1] is missing, renames argv[2] there and back */",
                "int main(int argc, char **argv) {",
                "  time_t end = time(NULL) + atoi(argv[3]);",
                "  long n = 0;",
                "  while (time(NULL) < end) {",
                "    if (renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) == 0) n++;",
                "    else if (errno == ENOENT && rename(argv[2], argv[1]) == 0 && rename(argv[1], argv[2]) == 0) n++;",
                "  }",
                "  printf(\"%ld swaps\\n\", n);",
                "  return 0;",
                "}", ""));
        Proc gcc = Proc.run(List.of("gcc", "-O2", "-o", exchange.toString(), c.toString()), Map.of(), 60);
        assertEquals(0, gcc.exit, gcc.output);
        chmod(exchange, "755");
        // B's tree next to A's directory, a real directory each, so that they can be exchanged
        Proc.check(List.of("cp", "-a", evil.toString(), d.resolve("evil").toString()));
        chown(d.resolve("evil"), B);
        Process loop = new ProcessBuilder("setpriv", "--reuid=" + B, "--regid=" + B, "--clear-groups", exchange.toString(),
                d.resolve("mptcp-agent").toString(), d.resolve("evil").toString(), "120").redirectErrorStream(true).start();
        try {
            for (int start = 0; start < 4; start++) {
                try (ChildJvm app = victim(jdk, A, d, aTmp, false)) {
                    assertMptcpAndClean(app);
                }
            }
            assertTrue(loop.isAlive(), "the exchange loop ran all along");
        } finally {
            loop.destroy();
            loop.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
