package mptcp.agent.policy;

import java.net.InetAddress;

import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * One connect race ({@link Races}): the application's MPTCP connect under {@link #fd}, which went unanswered for the
 * race delay, and a plain TCP connect to the same destination on a socket of the agent's own ({@link #twin}). The
 * race thread watches both through {@link #mptcp}, its own second fd for the MPTCP socket (so that the application may
 * close its fd at any time without the agent ever touching a number that now means something else); the
 * application's thread, when it next asks whether its connect completed, takes over the outcome. State changes happen
 * under the object's lock.
 */
final class Race {
    /** Both attempts are under way. */
    static final int RACING = 0;
    /** MPTCP answered first (or failed on its own): the twin is closed; the application's socket is untouched. */
    static final int MPTCP_DONE = 1;
    /** Plain TCP connected first: the MPTCP attempt was stopped (shutdown), the twin waits to be put under fd. */
    static final int TCP_WON = 2;
    /** Neither answered before the kernel's own fallback would start: the MPTCP attempt was stopped, the twin goes on. */
    static final int ABANDONED = 3;
    /** Plain TCP failed with {@link #error} (refused, unreachable): the MPTCP attempt was stopped; so is the connect. */
    static final int TCP_FAILED = 4;
    /** After ABANDONED, the twin was put under fd still connecting: its outcome tells whether MPTCP was blackholed. */
    static final int INSTALLED = 5;

    final int fd;
    final InetAddress address;
    final int port;
    /** System.nanoTime() of the application's connect, and of the twin's. */
    final long started;
    final long twinStarted;
    /** The race delay this connect had. */
    final long delayMillis;
    /** How the library watches the socket (Decisions.OWN, ...): which epoll registrations to add again. */
    final int watch;
    /** SO_COOKIE of the MPTCP socket and of the twin: what fd must still hold for the race to go on. */
    final long mptcpCookie;
    final long twinCookie;
    /** The agent's own fd of the MPTCP socket (closed once the race is decided), and of the twin (-1 once given away). */
    int mptcp;
    int twin;
    int state = RACING;
    /** TCP_FAILED: the twin's errno. */
    int error;

    Race(int fd, InetAddress address, int port, long started, long delayMillis, int watch, int mptcp, long mptcpCookie,
            int twin, long twinCookie, long twinStarted) {
        this.fd = fd;
        this.address = address;
        this.port = port;
        this.started = started;
        this.delayMillis = delayMillis;
        this.watch = watch;
        this.mptcp = mptcp;
        this.mptcpCookie = mptcpCookie;
        this.twin = twin;
        this.twinCookie = twinCookie;
        this.twinStarted = twinStarted;
    }

    /** Stops the MPTCP attempt: its waiters (the application's connect, poll, selector, event loop) wake up. */
    void stopMptcp() {
        if (mptcp >= 0) {
            Sock.shutdown(mptcp, LibC.SHUT_RDWR);
            Sock.close(mptcp);
            mptcp = -1;
        }
    }

    /** Closes what the race still holds of its own. */
    void release() {
        if (mptcp >= 0) {
            Sock.close(mptcp);
            mptcp = -1;
        }
        if (twin >= 0) {
            Sock.close(twin);
            twin = -1;
        }
    }

    /** Whether fd still holds the socket this race is about (the application has not closed or replaced it). */
    boolean stillAt() {
        return Sock.cookie(fd) == (state == INSTALLED ? twinCookie : mptcpCookie);
    }

    String destination() {
        String host = address.getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
