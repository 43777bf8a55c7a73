package mptcp.agent.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The target side of attach: a request in parts (any order), run once whole; its answer published, then cleared. */
class AttachRequestTest {

    @Test
    void partsAreJoinedAndTheAnswerPublishedThenCleared() {
        List<String> seen = new ArrayList<>();
        AttachRequest.Handler handler = (options, uid) -> {
            seen.add(uid + " " + options);
            return new AttachRequest.Answer(true, true, List.of("first\nline", "listener x: converted"));
        };
        AttachRequest.handle(AttachRequest.request("ab12", 1000, 2, 3, ";tcp bind * 8"), handler);
        AttachRequest.handle(AttachRequest.request("ab12", 1000, 1, 3, "log=debug,rules=tcp bind * 7"), handler);
        assertTrue(seen.isEmpty(), "not before every part is in");
        assertNull(System.getProperty(AttachRequest.PROPERTY + "ab12"));
        AttachRequest.handle(AttachRequest.request("ab12", 1000, 3, 3, "081"), handler);
        assertEquals(List.of("1000 log=debug,rules=tcp bind * 7;tcp bind * 8081"), seen);
        AttachRequest.Answer a = AttachRequest.Answer.parse(System.getProperty(AttachRequest.PROPERTY + "ab12"));
        assertTrue(a.active && a.applied);
        assertEquals(List.of("first line", "listener x: converted"), a.lines, "one line each");
        AttachRequest.handle(AttachRequest.DONE + "ab12", handler);
        assertNull(System.getProperty(AttachRequest.PROPERTY + "ab12"));
    }

    @Test
    void malformedRequestsAreRefused() {
        AttachRequest.Handler never = (options, uid) -> {
            throw new AssertionError("not a request");
        };
        assertThrows(IllegalArgumentException.class, () -> AttachRequest.handle("@attach=XYZ/0/1/1:mode=all", never));
        assertThrows(IllegalArgumentException.class, () -> AttachRequest.handle("@attach=ab/0/2/1:mode=all", never));
        assertThrows(IllegalArgumentException.class, () -> AttachRequest.handle("@attach=ab/0/1/1mode=all", never));
        assertNull(AttachRequest.Answer.parse("mptcp-agent.active"));
    }

    @Test
    void aFailingHandlerStillAnswers() {
        AttachRequest.handle(AttachRequest.request("cd34", -1, 1, 1, ""), (options, uid) -> {
            throw new IllegalStateException("boom");
        });
        AttachRequest.Answer a = AttachRequest.Answer.parse(System.getProperty(AttachRequest.PROPERTY + "cd34"));
        assertTrue(!a.applied && a.lines.get(0).contains("boom"), a.lines.toString());
        AttachRequest.handle(AttachRequest.DONE + "cd34", null);
    }
}
