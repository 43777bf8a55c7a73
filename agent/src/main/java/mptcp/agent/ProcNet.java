package mptcp.agent;

/** Decoding of the hexadecimal addresses in /proc/net/tcp and /proc/net/tcp6. */
final class ProcNet {
    private ProcNet() {
    }

    /** "0100007F:1F90" → "127.0.0.1:8080"; tcp6 form → "[::1]:8080" (IPv4-mapped shown as IPv4). */
    static String address(String hex) {
        int colon = hex.indexOf(':');
        String ip = hex.substring(0, colon);
        int port = Integer.parseInt(hex.substring(colon + 1), 16);
        byte[] b = new byte[ip.length() / 2];
        // the kernel prints each 32-bit word in host (little-endian) order
        for (int word = 0; word < b.length / 4; word++) {
            for (int i = 0; i < 4; i++) {
                int at = word * 8 + (3 - i) * 2;
                b[word * 4 + i] = (byte) Integer.parseInt(ip.substring(at, at + 2), 16);
            }
        }
        try {
            java.net.InetAddress a = java.net.InetAddress.getByAddress(b);
            String text = a.getHostAddress();
            if (a instanceof java.net.Inet6Address) {
                text = "[" + (text.equals("0:0:0:0:0:0:0:0") ? "::" : text) + "]";
            }
            return text + ":" + port;
        } catch (java.net.UnknownHostException e) {
            return hex;
        }
    }
}
