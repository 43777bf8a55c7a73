package mptcp.agent.config;

/**
 * An IP address prefix ({@code 10.0.0.0/8}, {@code fd00::/8}, {@code ::1}), held as a 128-bit IPv6 value and mask in
 * two longs each. IPv4 is held in its IPv4-mapped IPv6 form ({@code ::ffff:a.b.c.d}, so {@code 10.0.0.0/8} is
 * {@code ::ffff:10.0.0.0/104}): an IPv4 prefix then matches the IPv4 address and its mapped IPv6 form alike, and an
 * IPv6 prefix that covers {@code ::ffff:0:0/96} (such as {@code ::/0}) matches every IPv4 address too.
 *
 * <p>{@link #matches} compares primitives only: it allocates nothing. Parsing accepts literal addresses only (never a
 * host name: nothing here resolves names).
 */
public final class AddressPrefix {
    /** The high 64 bits of an IPv4-mapped address are 0; the low 64 bits are this plus the IPv4 address. */
    public static final long MAPPED = 0xFFFF_0000_0000L;

    final long hi;
    final long lo;
    final long maskHi;
    final long maskLo;
    /** Prefix length in IPv6 bits (IPv4 /n is 96 + n). */
    final int bits;
    /** True when written as IPv4 (shown as IPv4). */
    final boolean ipv4;

    private AddressPrefix(long hi, long lo, int bits, boolean ipv4) {
        this.bits = bits;
        this.maskHi = bits == 0 ? 0 : bits >= 64 ? -1L : -1L << (64 - bits);
        this.maskLo = bits <= 64 ? 0 : bits == 128 ? -1L : -1L << (128 - bits);
        this.hi = hi;
        this.lo = lo;
        this.ipv4 = ipv4;
    }

    /** Every address, IPv4 and IPv6. */
    public static final AddressPrefix ANY = new AddressPrefix(0, 0, 0, false);
    /** 127.0.0.0/8 (IPv4-mapped: ::ffff:127.0.0.0/104). */
    static final AddressPrefix LOOPBACK4 = new AddressPrefix(0, MAPPED | 0x7F00_0000L, 96 + 8, true);
    /** ::1 */
    static final AddressPrefix LOOPBACK6 = new AddressPrefix(0, 1, 128, false);

    /** The IPv6 address {@code hi:lo} (big-endian halves) is in this prefix. */
    public boolean matches(long addrHi, long addrLo) {
        return (addrHi & maskHi) == hi && (addrLo & maskLo) == lo;
    }

    /** The IPv4 address {@code addr} (as {@code Inet4Address.hashCode()}: a.b.c.d = a << 24 | ...) is in this prefix. */
    public boolean matches4(int addr) {
        return matches(0, MAPPED | (addr & 0xFFFF_FFFFL));
    }

    /**
     * Parses {@code a.b.c.d[/n]} (n 0-32), an IPv6 literal {@code x:x::x[/n]} (n 0-128, optionally in brackets,
     * with an embedded IPv4 tail allowed) or {@code *} (every address).
     * @throws IllegalArgumentException with the reason, in a few words
     */
    public static AddressPrefix parse(String text) {
        if (text.equals("*")) {
            return ANY;
        }
        String addr = text;
        int bits = -1;
        int slash = text.indexOf('/');
        if (slash >= 0) {
            addr = text.substring(0, slash);
            bits = number(text.substring(slash + 1), 128, "prefix length");
        }
        if (addr.startsWith("[") && addr.endsWith("]")) {
            addr = addr.substring(1, addr.length() - 1);
        }
        long hi;
        long lo;
        boolean ipv4 = addr.indexOf(':') < 0;
        if (ipv4) {
            if (bits > 32) {
                throw new IllegalArgumentException("prefix length /" + bits + " is more than 32 for an IPv4 address");
            }
            hi = 0;
            lo = MAPPED | (ipv4(addr) & 0xFFFF_FFFFL);
            bits = bits < 0 ? 128 : 96 + bits;
        } else {
            long[] v = ipv6(addr);
            hi = v[0];
            lo = v[1];
            bits = bits < 0 ? 128 : bits;
        }
        AddressPrefix p = new AddressPrefix(hi, lo, bits, ipv4);
        if ((hi & p.maskHi) != hi || (lo & p.maskLo) != lo) {
            AddressPrefix network = new AddressPrefix(hi & p.maskHi, lo & p.maskLo, bits, ipv4);
            throw new IllegalArgumentException(Excerpt.quoted(text) + " has bits set after the prefix length (did you mean "
                    + network + "?)");
        }
        // a mapped address written in IPv6 (::ffff:10.0.0.0/104) is shown, and behaves, as IPv4
        boolean mapped = !ipv4 && hi == 0 && bits >= 96 && (lo >>> 32) == 0xFFFF;
        return mapped ? new AddressPrefix(hi, lo, bits, true) : p;
    }

    /** a.b.c.d as an int, a being the high byte. */
    static int ipv4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException(Excerpt.quoted(s) + " is not an IPv4 address (a.b.c.d) nor an IPv6 address"
                    + " (host names are not allowed)");
        }
        int v = 0;
        for (String part : parts) {
            v = v << 8 | number(part, 255, "IPv4 address byte");
        }
        return v;
    }

    /** An IPv6 literal (no zone id) as {high 64 bits, low 64 bits}. */
    static long[] ipv6(String s) {
        if (s.indexOf('%') >= 0) {
            throw new IllegalArgumentException(Excerpt.quoted(s) + ": zone ids (%) are not allowed");
        }
        int[] groups = new int[8];
        int n = 0;
        int gap = -1;
        String rest = s;
        if (rest.startsWith("::")) {
            gap = 0;
            rest = rest.substring(2);
        } else if (rest.startsWith(":")) {
            throw bad6(s);
        }
        while (!rest.isEmpty()) {
            int colon = rest.indexOf(':');
            String group = colon < 0 ? rest : rest.substring(0, colon);
            if (group.indexOf('.') >= 0) {
                if (colon >= 0 || n > 6) {
                    throw bad6(s);
                }
                int v4 = ipv4(group);
                groups[n++] = v4 >>> 16;
                groups[n++] = v4 & 0xFFFF;
                rest = "";
                break;
            }
            if (group.isEmpty() || group.length() > 4 || n >= 8) {
                throw bad6(s);
            }
            int g = 0;
            for (int i = 0; i < group.length(); i++) {
                int d = hexDigit(group.charAt(i));
                if (d < 0) {
                    throw bad6(s);
                }
                g = g << 4 | d;
            }
            groups[n++] = g;
            if (colon < 0) {
                rest = "";
            } else if (rest.startsWith("::", colon)) {
                if (gap >= 0) {
                    throw bad6(s);
                }
                gap = n;
                rest = rest.substring(colon + 2);
            } else {
                rest = rest.substring(colon + 1);
                if (rest.isEmpty()) {
                    throw bad6(s); // trailing single ':'
                }
            }
        }
        if (gap < 0 ? n != 8 : n > 7) {
            throw bad6(s);
        }
        int[] full = new int[8];
        if (gap < 0) {
            full = groups;
        } else {
            System.arraycopy(groups, 0, full, 0, gap);
            System.arraycopy(groups, gap, full, 8 - (n - gap), n - gap);
        }
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 4; i++) {
            hi = hi << 16 | full[i];
            lo = lo << 16 | full[i + 4];
        }
        return new long[] {hi, lo};
    }

    /** The value of an ASCII hexadecimal digit, or -1 (never another script's digits: Character.digit takes those). */
    private static int hexDigit(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    private static IllegalArgumentException bad6(String s) {
        return new IllegalArgumentException(Excerpt.quoted(s) + " is not an IPv6 address");
    }

    /** ASCII digits only ('0'-'9'; never another script's digits). */
    private static boolean digits(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    static int number(String s, int max, String what) {
        if (s.isEmpty() || s.length() > 5 || !digits(s)) {
            throw new IllegalArgumentException(Excerpt.quoted(s) + " is not a valid " + what + " (0-" + max + ")");
        }
        int v = Integer.parseInt(s);
        if (v > max) {
            throw new IllegalArgumentException(what + " " + v + " is more than " + max);
        }
        return v;
    }

    @Override
    public String toString() {
        if (bits == 0) {
            return "*";
        }
        String a = ipv4 ? format4((int) lo) : format6(hi, lo);
        int shown = ipv4 ? bits - 96 : bits;
        return bits == 128 ? a : a + "/" + shown;
    }

    /**
     * The address {@code hi:lo} as text: IPv4-mapped ones as {@code a.b.c.d}, others in RFC 5952 form ({@code ::1},
     * {@code fd00::1}), for logs.
     */
    public static String format(long hi, long lo) {
        return hi == 0 && (lo >>> 32) == 0xFFFF ? format4((int) lo) : format6(hi, lo);
    }

    private static String format4(int v) {
        return (v >>> 24) + "." + (v >>> 16 & 0xFF) + "." + (v >>> 8 & 0xFF) + "." + (v & 0xFF);
    }

    /** RFC 5952: lower case, the longest run (2+) of zero groups as ::. */
    private static String format6(long hi, long lo) {
        int[] g = new int[8];
        for (int i = 0; i < 4; i++) {
            g[i] = (int) (hi >>> (48 - 16 * i)) & 0xFFFF;
            g[i + 4] = (int) (lo >>> (48 - 16 * i)) & 0xFFFF;
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                b.append("::");
                i += bestLen - 1;
                continue;
            }
            if (b.length() > 0 && b.charAt(b.length() - 1) != ':') {
                b.append(':');
            }
            b.append(Integer.toHexString(g[i]));
        }
        return b.toString();
    }
}
