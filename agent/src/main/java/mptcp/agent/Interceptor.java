package mptcp.agent;

import java.net.SocketException;

import mptcp.sys.Errno;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * Decides, for each TCP socket the JDK creates, whether it becomes MPTCP, and makes it so. Called from the JDK through
 * the trampoline set up by {@link Instrumenter}. Never lets an agent failure reach the application: when MPTCP cannot be
 * had, the JDK's own code makes the usual TCP socket (unless {@code fallback=fail}).
 */
public final class Interceptor {
    private static volatile Config config = Config.defaults();
    /** False once the kernel or the native binding showed MPTCP sockets cannot be made in this JVM at all. */
    private static volatile boolean possible = true;
    /** Set once the native binding failed to load: then nothing native is attempted any more (Connections too). */
    static volatile boolean nativeBroken;
    /** The first failure of the native binding, when it happened on the warm-up thread (see Agent). */
    static volatile Throwable nativeFailure;

    private Interceptor() {
    }

    static void configure(Config c) {
        config = c;
    }

    static Config config() {
        return config;
    }

    /** Replaces {@code Net.socket0}; same arguments, same result: a new socket's fd (reuse is true for listeners). */
    public static int socket0(boolean preferIPv6, boolean stream, boolean reuse, boolean fastLoopback) throws Throwable {
        if (stream && possible) {
            Config c = config;
            if (reuse ? c.convertsServers() : c.convertsClients()) {
                // The JDK asks for AF_INET6 only when IPv6 is available and wanted, and then clears IPV6_V6ONLY
                // (dual stack, IPv4 being always available on Linux); listeners get SO_REUSEADDR. Same here.
                int domain = preferIPv6 ? LibC.AF_INET6 : LibC.AF_INET;
                int fd = create(c, domain, reuse);
                if (fd >= 0) {
                    Decisions.createdMptcp(fd, domain == LibC.AF_INET6, reuse);
                    return fd;
                }
            }
        }
        int fd = (int) Instrumenter.SOCKET0.original.invokeExact(preferIPv6, stream, reuse, fastLoopback);
        Decisions.unknown(fd);
        return fd;
    }

    /** After the legacy PlainSocketImpl made socket {@code fd}: give it the MPTCP protocol, keeping the fd number. */
    public static void legacyCreated(int fd, boolean stream, boolean server) throws SocketException {
        Config c = config;
        if (!stream || !possible || !(server ? c.convertsServers() : c.convertsClients())) {
            return;
        }
        int rc;
        try {
            rc = Sock.replace(fd, LibC.IPPROTO_MPTCP);
        } catch (Throwable t) {
            nativeFailed(c, t);
            return;
        }
        if (rc == 0) {
            converted(fd, "legacy " + (server ? "listener" : "socket"));
        } else {
            refused(c, -rc);
        }
    }

    /** @return the MPTCP socket's fd, or -1 when the JDK should make a TCP socket */
    private static int create(Config c, int domain, boolean server) throws SocketException {
        int fd;
        try {
            fd = Sock.open(domain, LibC.IPPROTO_MPTCP, true, server);
        } catch (Throwable t) {
            nativeFailed(c, t);
            return -1;
        }
        if (fd >= 0) {
            converted(fd, (domain == LibC.AF_INET6 ? "AF_INET6 " : "AF_INET ") + (server ? "listener" : "socket"));
            return fd;
        }
        refused(c, -fd);
        return -1;
    }

    private static void converted(int fd, String what) {
        Stats.SOCKETS_MPTCP.increment();
        if (Log.enabled(Log.Level.DEBUG)) {
            Log.debug("fd " + fd + ": " + what + " created as MPTCP");
        }
    }

    /** The kernel refused an MPTCP socket with {@code errno}. */
    private static void refused(Config c, int errno) throws SocketException {
        boolean unavailable = errno == Errno.ENOPROTOOPT || errno == Errno.EPROTONOSUPPORT || errno == Errno.EINVAL
                || errno == Errno.EACCES || errno == Errno.EPERM || errno == Errno.EAFNOSUPPORT;
        if (!unavailable) {
            // e.g. EMFILE: not about MPTCP; the JDK's own socket() call reports it the usual way
            return;
        }
        Stats.fallback(errno);
        String why = Errno.describe(errno);
        if (c.fallback == Config.Fallback.FAIL) {
            throw new SocketException("MPTCP socket refused by the kernel: " + why + " (mptcp-agent fallback=fail); " + hint(errno));
        }
        if (errno == Errno.EPROTONOSUPPORT || errno == Errno.EINVAL) {
            possible = false; // the kernel has no MPTCP: stop asking
        }
        Log.once(Log.Level.WARN, "refused", "the kernel refused MPTCP sockets: " + why + "; sockets stay TCP. " + hint(errno));
    }

    private static String hint(int errno) {
        switch (errno) {
            case Errno.ENOPROTOOPT:
                return "Enable MPTCP with: sysctl -w net.mptcp.enabled=1 (per network namespace)";
            case Errno.EPROTONOSUPPORT:
            case Errno.EINVAL:
                return "This kernel has no MPTCP: it needs Linux 5.6+ built with CONFIG_MPTCP=y";
            default:
                return "A security module (SELinux, AppArmor, seccomp) denies IPPROTO_MPTCP (262) sockets to this process";
        }
    }

    private static void nativeFailed(Config c, Throwable t) throws SocketException {
        possible = false;
        nativeBroken = true;
        if (nativeFailure != null) {
            t = nativeFailure; // the root cause; later attempts only see "Could not initialize class"
        }
        Stats.fallback(-1);
        if (c.fallback == Config.Fallback.FAIL) {
            throw new SocketException("mptcp-agent cannot make MPTCP sockets: native binding failed: " + t);
        }
        Log.once(Log.Level.WARN, "native", "native binding failed (" + t + "); sockets stay TCP. If java.io.tmpdir is"
                + " mounted noexec, start the JVM with -Djffi.extract.dir=<an exec-allowed directory>");
    }
}
