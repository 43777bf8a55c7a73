package mptcp.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

/** What attach sends: options checked once, a rules file read here and sent inline, parts within the protocol's limit. */
class AttachCommandTest {

    @Test
    void aRulesFileIsReadHereAndSentInline() throws Exception {
        Path file = Files.createTempFile("attach", ".rules");
        try {
            Files.writeString(file, "# comment\ntcp bind * 8080   # the admin port\n\ntcp connect 10.0.0.0/8 5432;mptcp bind ::1\n");
            assertEquals("log=info,rules=tcp bind * 8080;tcp connect 10.0.0.0/8 5432;mptcp bind ::1,mode=server",
                    AttachCommand.prepare("log=info,rules=@" + file + ",mode=server"));
        } finally {
            Files.delete(file);
        }
        assertEquals("enabled=false", AttachCommand.prepare("enabled=false"));
        assertEquals("", AttachCommand.prepare(""));
        UsageException missing = assertThrows(UsageException.class, () -> AttachCommand.prepare("rules=@/nonexistent/x.rules"));
        assertTrue(missing.getMessage().contains("cannot read the rules file '/nonexistent/x.rules'"), missing.getMessage());
        UsageException bad = assertThrows(UsageException.class, () -> AttachCommand.prepare("mode=both"));
        assertTrue(bad.getMessage().contains("invalid value 'both' for option 'mode'"), bad.getMessage());
    }

    @Test
    void longOptionsGoInPartsOfWholeCharacters() {
        StringBuilder rules = new StringBuilder("rules=");
        for (int i = 1; i <= 150; i++) {
            rules.append(i == 1 ? "" : ";").append("tcp connect fd00::").append(Integer.toHexString(i)).append(" ").append(i);
        }
        String options = rules + ",log=debug";
        List<String> parts = AttachCommand.parts(AttachCommand.prepare(options));
        assertTrue(parts.size() > 1 && parts.size() <= AttachCommand.MAX_PARTS, parts.size() + " parts");
        assertEquals(options, String.join("", parts));
        int first = parts.get(0).getBytes(StandardCharsets.UTF_8).length;
        for (String p : parts) {
            assertTrue(p.getBytes(StandardCharsets.UTF_8).length <= first, "no part longer than the first");
        }
        // "@attach=" nonce(16) "/" uid(11) "/" part(2) "/" parts(2) ":", then "=" after the jar's path and a NUL
        int header = "@attach=".length() + 16 + 1 + 11 + 1 + 2 + 1 + 2 + 1;
        assertTrue(first + header + 2 + 320 <= 1024, "room for the header and a jar path of 320 bytes: " + first);
        List<String> wide = AttachCommand.parts("é".repeat(1000));
        assertEquals("é".repeat(1000), String.join("", wide));
        StringBuilder huge = new StringBuilder("rules=tcp bind * 1");
        while (huge.length() < 20_000) {
            huge.append(";tcp bind * 1");
        }
        UsageException tooLong = assertThrows(UsageException.class, () -> AttachCommand.prepare(huge.toString()));
        assertTrue(tooLong.getMessage().startsWith("options too long for attach"), tooLong.getMessage());
    }
}
