package mptcp.sys;

/** Linux errno values the agent reacts to, with their symbolic names for messages. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int EINTR = 4;
    public static final int EBADF = 9;
    public static final int EACCES = 13;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ENOPROTOOPT = 92;
    public static final int EPROTONOSUPPORT = 93;
    public static final int EOPNOTSUPP = 95;
    public static final int EAFNOSUPPORT = 97;
    public static final int EISCONN = 106;
    public static final int EADDRINUSE = 98;
    public static final int EADDRNOTAVAIL = 99;
    public static final int ENETUNREACH = 101;
    public static final int ECONNABORTED = 103;
    public static final int ECONNRESET = 104;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;
    public static final int EHOSTUNREACH = 113;
    public static final int EALREADY = 114;
    public static final int EINPROGRESS = 115;

    private Errno() {
    }

    /** "ENOPROTOOPT (Protocol not available)" for the values above, "errno 71 (...)" for others. */
    public static String describe(int errno) {
        String name;
        switch (errno) {
            case EPERM: name = "EPERM"; break;
            case EBADF: name = "EBADF"; break;
            case EACCES: name = "EACCES"; break;
            case EINVAL: name = "EINVAL"; break;
            case EMFILE: name = "EMFILE"; break;
            case ENOPROTOOPT: name = "ENOPROTOOPT"; break;
            case EPROTONOSUPPORT: name = "EPROTONOSUPPORT"; break;
            case EOPNOTSUPP: name = "EOPNOTSUPP"; break;
            case EAFNOSUPPORT: name = "EAFNOSUPPORT"; break;
            case EISCONN: name = "EISCONN"; break;
            case EADDRINUSE: name = "EADDRINUSE"; break;
            case EADDRNOTAVAIL: name = "EADDRNOTAVAIL"; break;
            default: name = "errno " + errno;
        }
        String text = Sock.strerror(errno);
        return text == null ? name : name + " (" + text + ")";
    }
}
