/** The redirect target of both rewrites: same signature as sun.nio.ch.Net.socket0. */
public final class Handlers {
    private Handlers() {
    }

    public static int socket0(boolean preferIPv6, boolean stream, boolean reuse, boolean fastLoopback) {
        return -1;
    }
}
