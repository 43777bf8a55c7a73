package mptcp.agent.config;

/**
 * How an error line shows text it read (an option's value, a rule, a key, a file name): escaped and short, never more.
 * Whatever the input (a secret file's first line, a 50 MB value, terminal escapes), an excerpt is at most
 * {@link #MAX} characters of printable ASCII between single quotes: a backslash doubled; tab, CR and LF as backslash
 * t, r, n; every other control character (ESC, NUL, DEL, ...) as backslash x and two hex digits; every non-ASCII
 * character as backslash u and four hex digits (per UTF-16 unit); a longer text is cut, marked "..." and followed by
 * its length.
 */
public final class Excerpt {
    /** The most characters an excerpt shows between its quotes, escapes and the "..." mark included. */
    public static final int MAX = 80;

    private Excerpt() {
    }

    /** {@code 'text'}, escaped, cut after {@link #MAX} characters ({@code 'text...' (N characters)}). */
    public static String quoted(CharSequence text) {
        return quoted(text, MAX);
    }

    /**
     * The same, cut after {@code max} (at most {@link #MAX}) characters: shorter where a longer excerpt would say more
     * of a file that is no rules file than needed to recognise it (a rule's first word).
     */
    public static String quoted(CharSequence text, int max) {
        StringBuilder b = new StringBuilder(MAX + 24).append('\'');
        boolean cut = escape(text, 0, b, Math.min(max, MAX));
        b.append('\'');
        return cut ? b.append(" (").append(text.length()).append(" characters)").toString() : b.toString();
    }

    /** The same without quotes nor length, its end kept when cut ({@code ...e/name}): for file names. */
    public static String name(CharSequence text) {
        int n = text.length();
        if (fits(text, 0, MAX)) {
            StringBuilder all = new StringBuilder(MAX);
            escape(text, 0, all, MAX);
            return all.toString();
        }
        // the end of a long name says most (the file's own name)
        int from = n;
        int width = 3;
        while (from > 0 && width + width(text.charAt(from - 1)) <= MAX) {
            width += width(text.charAt(from - 1));
            from--;
        }
        StringBuilder b = new StringBuilder(MAX).append("...");
        escape(text, from, b, MAX);
        return b.toString();
    }

    /** Whether {@code text} from {@code from}, escaped, fits in {@code max} characters (reads at most max + 1 chars). */
    private static boolean fits(CharSequence text, int from, int max) {
        int width = 0;
        for (int i = from; i < text.length(); i++) {
            width += width(text.charAt(i));
            if (width > max) {
                return false;
            }
        }
        return true;
    }

    /**
     * Appends {@code text} from {@code from} escaped: all of it if it fits in {@code max} characters, else as much as
     * fits with "..." after it. Never reads much more of {@code text} than it shows (a 50 MB value costs nothing).
     * @return true when cut
     */
    private static boolean escape(CharSequence text, int from, StringBuilder b, int max) {
        boolean whole = fits(text, from, max);
        int room = whole ? max : max - 3;
        int used = 0;
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            used += width(c);
            if (used > room) {
                break;
            }
            append(b, c);
        }
        if (!whole) {
            b.append("...");
        }
        return !whole;
    }

    private static int width(char c) {
        if (c >= 0x20 && c < 0x7F) {
            return c == '\\' ? 2 : 1;
        }
        if (c == '\t' || c == '\n' || c == '\r') {
            return 2;
        }
        return c < 0x80 ? 4 : 6;
    }

    private static void append(StringBuilder b, char c) {
        if (c >= 0x20 && c < 0x7F) {
            b.append(c == '\\' ? "\\\\" : String.valueOf(c));
        } else if (c == '\t') {
            b.append("\\t");
        } else if (c == '\n') {
            b.append("\\n");
        } else if (c == '\r') {
            b.append("\\r");
        } else if (c < 0x80) {
            b.append("\\x").append(HEX[c >> 4]).append(HEX[c & 0xF]);
        } else {
            b.append("\\u").append(HEX[c >> 12]).append(HEX[c >> 8 & 0xF]).append(HEX[c >> 4 & 0xF]).append(HEX[c & 0xF]);
        }
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();
}
