package mptcp.agent.policy;

import java.net.SocketException;

import mptcp.agent.config.Config;
import mptcp.agent.log.Log;
import mptcp.sys.Errno;
import mptcp.sys.LibC;
import mptcp.sys.Sock;
import mptcp.sys.Swap;

/**
 * Socket creation: decides whether a new TCP socket becomes MPTCP, and makes it so. Never lets an agent failure reach
 * the application: when MPTCP cannot be had the caller makes the usual TCP socket (unless {@code fallback=fail}).
 */
public final class Sockets {
    private Sockets() {
    }

    /** Whether a new socket of this role would be made MPTCP now. */
    public static boolean wanted(boolean server) {
        Config c = Policy.config();
        return Policy.possible && (server ? c.convertsServers() : c.convertsClients());
    }

    /**
     * Makes an MPTCP stream socket the way the JDK makes its TCP sockets (no CLOEXEC, blocking, IPV6_V6ONLY=0 on
     * AF_INET6, SO_REUSEADDR for listeners).
     * @return the MPTCP socket's fd, or -1 when the caller should make a TCP socket
     * @throws SocketException with {@code fallback=fail}, when the kernel refuses MPTCP
     */
    public static int create(int domain, boolean server) throws SocketException {
        int fd = server ? -1 : Spares.take(domain == LibC.AF_INET6);
        if (fd >= 0) {
            converted(fd, (domain == LibC.AF_INET6 ? "AF_INET6 " : "AF_INET ") + "socket (a spare)");
            Decisions.createdMptcp(fd, domain == LibC.AF_INET6, false);
            return fd;
        }
        try {
            fd = Sock.open(domain, LibC.IPPROTO_MPTCP, true, server);
        } catch (Throwable t) {
            nativeFailed(t);
            return -1;
        }
        if (fd >= 0) {
            converted(fd, (domain == LibC.AF_INET6 ? "AF_INET6 " : "AF_INET ") + (server ? "listener" : "socket"));
            Decisions.createdMptcp(fd, domain == LibC.AF_INET6, server);
            return fd;
        }
        refused(-fd);
        return -1;
    }

    /**
     * Like {@link #create(int, boolean)}, for a library that makes its sockets its own way (Netty: non-blocking, no
     * SO_REUSEADDR): {@code open} gets the protocol and returns the new fd or -errno. {@code what} names the socket in
     * the debug log. Checks {@link #wanted} itself.
     * @return the MPTCP socket's fd, or -1 when the caller should make a TCP socket
     * @throws SocketException with {@code fallback=fail}, when the kernel refuses MPTCP
     */
    public static int create(boolean server, String what, java.util.function.IntUnaryOperator open) throws SocketException {
        if (!wanted(server)) {
            return -1;
        }
        int fd;
        try {
            fd = open.applyAsInt(LibC.IPPROTO_MPTCP);
        } catch (Throwable t) {
            nativeFailed(t);
            return -1;
        }
        if (fd >= 0) {
            Decisions.unknown(fd); // not one of the JDK-style fresh sockets the rules' cheap swap assumes
            converted(fd, what);
            return fd;
        }
        refused(-fd);
        return -1;
    }

    /** A TCP socket {@code fd} was just made by code the agent cannot redirect: give it the MPTCP protocol in place. */
    public static void convertFresh(int fd, boolean server) throws SocketException {
        if (!wanted(server)) {
            return;
        }
        int rc;
        try {
            rc = Swap.replace(fd, LibC.IPPROTO_MPTCP);
        } catch (Throwable t) {
            nativeFailed(t);
            return;
        }
        if (rc == 0) {
            converted(fd, "legacy " + (server ? "listener" : "socket"));
        } else {
            refused(-rc);
        }
    }

    private static void converted(int fd, String what) {
        Stats.SOCKETS_MPTCP.increment();
        if (Log.enabled(Log.Level.DEBUG)) {
            Log.debug("fd " + fd + ": " + what + " created as MPTCP");
        }
    }

    /** The kernel refused an MPTCP socket with {@code errno}. */
    static void refused(int errno) throws SocketException {
        if (!unavailable(errno)) {
            // e.g. EMFILE: not about MPTCP; the library's own socket() call reports it the usual way
            return;
        }
        Stats.fallback(errno);
        String why = Errno.describe(errno);
        if (Policy.config().failWhenRefused) {
            throw new SocketException("MPTCP socket refused by the kernel: " + why + " (mptcp-agent fallback=fail); "
                    + hint(errno));
        }
        if (errno == Errno.EPROTONOSUPPORT || errno == Errno.EINVAL) {
            Policy.possible = false; // the kernel has no MPTCP: stop asking
        }
        Log.once(Log.Level.WARN, "refused", "the kernel refused MPTCP sockets: " + why + "; sockets stay TCP. " + hint(errno));
    }

    /** True for the errors that mean "no MPTCP here" (rather than, say, EMFILE). */
    static boolean unavailable(int errno) {
        return errno == Errno.ENOPROTOOPT || errno == Errno.EPROTONOSUPPORT || errno == Errno.EINVAL
                || errno == Errno.EACCES || errno == Errno.EPERM || errno == Errno.EAFNOSUPPORT;
    }

    /** What fixes the kernel's refusal of MPTCP sockets with {@code errno}: one sentence. */
    static String hint(int errno) {
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

    /**
     * "yes", or "no (ERRNO: cause)": whether this JVM can create an MPTCP socket right now (a probe socket, closed at
     * once).
     */
    public static String available() {
        int fd;
        try {
            fd = Sock.open(LibC.AF_INET, LibC.IPPROTO_MPTCP, false, false);
        } catch (Throwable t) {
            return "no (native binding failed: " + Policy.rootCause(t) + ")";
        }
        if (fd >= 0) {
            Sock.close(fd);
            return "yes";
        }
        int errno = -fd;
        if (!unavailable(errno)) {
            return "no (" + Errno.describe(errno) + ")";
        }
        String cause = errno == Errno.ENOPROTOOPT ? "net.mptcp.enabled=0 in the JVM's network namespace"
                : errno == Errno.EPROTONOSUPPORT || errno == Errno.EINVAL ? "the kernel has no MPTCP"
                : "denied by a security module";
        return "no (" + Errno.describe(errno).split(" ")[0] + ": " + cause + "). " + hint(errno);
    }

    private static void nativeFailed(Throwable t) throws SocketException {
        Policy.possible = false;
        Policy.nativeBroken = true;
        t = Policy.rootCause(t);
        Stats.fallback(-1);
        if (Policy.config().failWhenRefused) {
            throw new SocketException("mptcp-agent cannot make MPTCP sockets: native binding failed: " + t);
        }
        Log.once(Log.Level.WARN, "native", "native binding failed (" + t + "); sockets stay TCP. If the agent's cache"
                + " directory ($XDG_CACHE_HOME or ~/.cache) and java.io.tmpdir are mounted noexec, start the JVM with"
                + " -Djffi.extract.dir=<an exec-allowed directory>");
    }
}
