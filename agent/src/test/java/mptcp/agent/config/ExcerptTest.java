package mptcp.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ExcerptTest {
    @Test
    void printableAsciiAsIs() {
        assertEquals("'tcp connect 10.0.0.0/8'", Excerpt.quoted("tcp connect 10.0.0.0/8"));
        assertEquals("''", Excerpt.quoted(""));
        assertEquals("/etc/mptcp.rules", Excerpt.name("/etc/mptcp.rules"));
    }

    @Test
    void controlAndNonAsciiEscaped() {
        assertEquals("'a\\x1b[31mb\\r\\n\\t\\x00\\x7f\\\\c'", Excerpt.quoted("a\u001b[31mb\r\n\t\u0000\u007f\\c"));
        assertEquals("'fd00::\\u0661 caf\\u00e9 \\ud83d\\ude00'", Excerpt.quoted("fd00::\u0661 caf\u00e9 \ud83d\ude00"));
        assertEquals("/tmp/a\\nb", Excerpt.name("/tmp/a\nb"));
    }

    @Test
    void eightyCharactersAtMostWhateverTheInput() {
        String eighty = "x".repeat(80);
        assertEquals("'" + eighty + "'", Excerpt.quoted(eighty));
        assertEquals("'" + "x".repeat(77) + "...' (81 characters)", Excerpt.quoted(eighty + "y"));
        String fifty = "root:$y$j9T$secret\u001b]0;title\u0007".repeat(50 * 1024 * 1024 / 30);
        String q = Excerpt.quoted(fifty);
        assertTrue(q.length() <= 80 + 2 + " (52428800 characters)".length(), q);
        assertTrue(q.endsWith("...' (" + fifty.length() + " characters)"), q);
        // an escape is never cut in two
        String escapes = "\u001b".repeat(30);
        assertEquals("'" + "\\x1b".repeat(19) + "...' (30 characters)", Excerpt.quoted(escapes));
        for (String s : new String[] {fifty, escapes, "\u00e9".repeat(100), "a\\".repeat(100)}) {
            String e = Excerpt.quoted(s);
            String inside = e.substring(1, e.lastIndexOf('\''));
            assertTrue(inside.length() <= Excerpt.MAX, e);
            assertTrue(e.chars().allMatch(c -> c >= 0x20 && c < 0x7f), e);
        }
    }

    @Test
    void longNamesKeepTheirEnd() {
        String name = "/" + "d/".repeat(100) + "mptcp.rules";
        String shown = Excerpt.name(name);
        assertEquals(80, shown.length());
        assertTrue(shown.startsWith("...") && shown.endsWith("/d/mptcp.rules"), shown);
    }
}
