package mptcp.agent.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ReportTest {
    private static Report sample() {
        Report r = new Report();
        r.items.put("version", "0.1.0");
        r.items.put("config", "enabled=true,mode=all");
        r.items.put("sockets_mptcp", "12");
        Map<String, String> listener = new LinkedHashMap<>();
        listener.put("fd", "5");
        listener.put("state", "LISTEN");
        listener.put("local", "[::]:7000");
        listener.put("remote", "*");
        listener.put("protocol", "mptcp");
        Map<String, String> conn = new LinkedHashMap<>();
        conn.put("fd", "9");
        conn.put("state", "ESTAB");
        conn.put("local", "10.0.0.1:7000");
        conn.put("remote", "10.0.0.2:40000");
        conn.put("protocol", "mptcp→tcp");
        conn.put("subflows", "1");
        conn.put("token", "0123");
        r.sockets.addAll(List.of(listener, conn));
        return r;
    }

    @Test
    void wireFormRoundTrips() {
        Report r = sample();
        Report back = Report.parse(r.wire());
        assertEquals(r.items, back.items);
        assertEquals(r.sockets, back.sockets);
        assertTrue(r.wire().startsWith("version: 0.1.0\nconfig: enabled=true,mode=all\n"), r.wire());
    }

    @Test
    void parseIgnoresLinesOfNeitherForm() {
        Report r = Report.parse("garbage\nkey: value\nsocket: a=1 broken b=2\n");
        assertEquals(Map.of("key", "value"), r.items);
        assertEquals(List.of(Map.of("a", "1", "b", "2")), r.sockets);
    }

    @Test
    void textHasItemsThenAnAlignedTable() {
        String text = Render.render(sample(), false);
        assertEquals(String.join("\n",
                "version: 0.1.0",
                "config: enabled=true,mode=all",
                "sockets_mptcp: 12",
                "",
                "STATE   LOCAL          REMOTE          PROTOCOL   SUBFLOWS",
                "LISTEN  [::]:7000      *               mptcp      -",
                "ESTAB   10.0.0.1:7000  10.0.0.2:40000  mptcp→tcp  1",
                ""), text);
    }

    @Test
    void noTableWhenTheAgentDidNotAnswer() {
        Report r = new Report();
        r.items.put("agent", "not loaded");
        r.items.put("pid", "42");
        assertEquals("agent: not loaded\npid: 42\n", Render.render(r, false));
        assertEquals("{\n  \"agent\": \"not loaded\",\n  \"pid\": 42\n}\n", Render.render(r, true));
    }

    @Test
    void jsonNumbersStringsAndEscapes() {
        Report r = sample();
        r.items.put("error", "a \"quoted\" \\ path\tand tab");
        String json = Render.render(r, true);
        assertTrue(json.contains("\"sockets_mptcp\": 12"), json);
        assertTrue(json.contains("\"version\": \"0.1.0\""), json);
        assertTrue(json.contains("\"token\": \"0123\""), "the MPTCP token stays a string: " + json);
        assertTrue(json.contains("\"fd\": 9"), json);
        assertTrue(json.contains("\"error\": \"a \\\"quoted\\\" \\\\ path\\u0009and tab\""), json);
        assertTrue(json.contains("\"sockets\": [\n    {\"fd\": 5, \"state\": \"LISTEN\""), json);
    }

    @Test
    void streamedRenderingEqualsTheWholeOneAndHoldsOnlyTheRowsThatSizeTheTable() {
        Report r = sample();
        Report withPaths = sample();
        withPaths.paths.add(path("eth1", "8677606", "173", "1"));
        for (Report report : List.of(r, withPaths)) {
            for (boolean json : new boolean[] {false, true}) {
                StringBuilder streamed = new StringBuilder();
                Render.Stream s = new Render.Stream(streamed, json, Render.TABLE_ROWS);
                for (String line : report.wire().split("\n")) {
                    Report.feed(line, s::item, s::path, s::socket);
                }
                s.end();
                assertEquals(Render.render(report, json), streamed.toString());
            }
        }
        // column widths from the first rows held (1 here); a wider later value shifts its own line only
        StringBuilder b = new StringBuilder();
        Render.Stream s = new Render.Stream(b, false, 1);
        s.item("version", "0.1.0");
        s.socket(r.sockets.get(0));
        s.socket(r.sockets.get(1));
        s.end();
        String[] lines = b.toString().split("\n");
        assertEquals("STATE   LOCAL      REMOTE  PROTOCOL  SUBFLOWS", lines[2]);
        assertEquals("LISTEN  [::]:7000  *       mptcp     -", lines[3]);
        assertEquals("ESTAB   10.0.0.1:7000  10.0.0.2:40000  mptcp→tcp  1", lines[4]);
    }

    private static Map<String, String> path(String iface, String sent, String received, String subflows) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("interface", iface);
        p.put("sent_bytes", sent);
        p.put("received_bytes", received);
        p.put("retransmitted_bytes", "0");
        p.put("subflows", subflows);
        return p;
    }

    @Test
    void thePerInterfaceTableGoesBeforeTheSocketsInTextJsonAndWire() {
        Report r = sample();
        r.paths.add(path("eth1", "8677606", "173", "1"));
        r.paths.add(path("eth2", "8619888", "0", "1"));
        Report back = Report.parse(r.wire());
        assertEquals(r.paths, back.paths);
        assertEquals(r.sockets, back.sockets);
        String text = Render.render(r, false);
        assertTrue(text.contains(String.join("\n",
                "sockets_mptcp: 12",
                "",
                "INTERFACE  SENT_BYTES  RECEIVED_BYTES  RETRANSMITTED_BYTES  SUBFLOWS",
                "eth1       8677606     173             0                    1",
                "eth2       8619888     0               0                    1",
                "",
                "STATE ")), text);
        String json = Render.render(r, true);
        assertTrue(json.contains("\"paths\": [\n    {\"interface\": \"eth1\", \"sent_bytes\": 8677606, "
                + "\"received_bytes\": 173, \"retransmitted_bytes\": 0, \"subflows\": 1},"), json);
        assertTrue(json.indexOf("\"paths\"") < json.indexOf("\"sockets\""), json);
        assertTrue(Render.render(sample(), true).contains("\"paths\": [],"), "an empty array without connections");
    }
}
