package mptcp.agent.config;

import mptcp.agent.log.Log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

class ConfigTest {
    private static Config parse(String args, Map<String, String> props, Map<String, String> env) {
        return Config.parse(args, props::get, env::get);
    }

    @Test
    void defaults() {
        Config c = parse(null, Map.of(), Map.of());
        assertTrue(c.enabled);
        assertTrue(c.convertsServers() && c.convertsClients());
        assertFalse(c.failWhenRefused);
        assertEquals(Log.Level.WARN, c.log);
        assertEquals("enabled=true,mode=all,fallback=tcp,log=warn,options=compat,listeners=convert,log_output=stderr,loopback=tcp,cache=on,jdk=on,netty=on,race=on,race_delay=250,blackhole_ttl=600,paths=on", c.text);
        assertTrue(c.convertListeners);
        assertFalse(c.slf4j);
        assertTrue(c.loopbackTcp);
        assertEquals(4, c.rules.list().size()); // the loopback rules
    }

    @Test
    void agentArgumentsBeatPropertiesBeatEnvironment() {
        Map<String, String> env = Map.of("MPTCP_AGENT_MODE", "server", "MPTCP_AGENT_LOG", "debug", "MPTCP_AGENT_FALLBACK", "fail");
        Map<String, String> props = Map.of("mptcp.agent.mode", "client", "mptcp.agent.log", "info");
        Config c = parse("mode=all", props, env);
        assertTrue(c.convertsServers() && c.convertsClients());
        assertEquals(Log.Level.INFO, c.log);
        assertTrue(c.failWhenRefused);
    }

    @Test
    void modesAndTheOtherChoices() {
        Config server = parse("mode=server,fallback=fail,options=strict", Map.of(), Map.of());
        assertTrue(server.convertsServers());
        assertFalse(server.convertsClients());
        assertTrue(server.failWhenRefused);
        assertFalse(server.compatOptions);
        Config client = parse("mode=client", Map.of(), Map.of());
        assertFalse(client.convertsServers());
        assertTrue(client.convertsClients());
        assertTrue(client.compatOptions);
        assertEquals(Log.Level.DEBUG, parse("log=debug", Map.of(), Map.of()).log);
        assertEquals(Log.Level.OFF, parse("log=off", Map.of(), Map.of()).log);
    }

    @Test
    void errorsNameKeySourceAndAllowedValues() {
        assertEquals("invalid value 'x' for option 'mode' in agent arguments; allowed: all|server|client",
                assertThrows(IllegalArgumentException.class, () -> parse("mode=x", Map.of(), Map.of())).getMessage());
        assertEquals("unknown option 'foo' in agent arguments; known options: enabled, mode, fallback, log, options, listeners, log_output, loopback, rules, cache, jdk, netty, race, race_delay, blackhole_ttl, paths",
                assertThrows(IllegalArgumentException.class, () -> parse("foo=1", Map.of(), Map.of())).getMessage());
        assertEquals("option 'log' given twice in agent arguments",
                assertThrows(IllegalArgumentException.class, () -> parse("log=info,log=debug", Map.of(), Map.of())).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("mode=server,", Map.of(), Map.of()))
                .getMessage().startsWith("invalid option '' in agent arguments: expected key=value"));
        assertEquals("invalid value 'TRUE' for option 'enabled' in environment variable MPTCP_AGENT_ENABLED; allowed: true|false",
                assertThrows(IllegalArgumentException.class, () -> parse("", Map.of(), Map.of("MPTCP_AGENT_ENABLED", "TRUE"))).getMessage());
    }

    @Test
    void logOutputFromEachSource() {
        assertTrue(parse("log_output=slf4j", Map.of(), Map.of()).slf4j);
        assertTrue(parse(null, Map.of("mptcp.agent.log_output", "slf4j"), Map.of()).slf4j);
        assertTrue(parse(null, Map.of(), Map.of("MPTCP_AGENT_LOG_OUTPUT", "slf4j")).slf4j);
        assertEquals("invalid value 'logback' for option 'log_output' in agent arguments; allowed: stderr|slf4j",
                assertThrows(IllegalArgumentException.class, () -> parse("log_output=logback", Map.of(), Map.of())).getMessage());
    }

    @Test
    void writesAgentArgumentsInKeyOrderKeepingExplicitDefaults() {
        assertEquals("mode=server,log=info,log_output=slf4j", Config.arguments("log_output=slf4j,log=info,mode=server"));
        assertEquals("mode=all", Config.arguments("mode=all"));
        assertEquals("", Config.arguments(""));
        assertEquals("invalid value 'x' for option 'mode' in agent arguments; allowed: all|server|client",
                assertThrows(IllegalArgumentException.class, () -> Config.arguments("mode=x")).getMessage());
        String written = Config.arguments("options=strict,fallback=fail");
        assertEquals(Config.parse("options=strict,fallback=fail", k -> null, k -> null).text,
                Config.parse(written, k -> null, k -> null).text);
    }

    @Test
    void loopbackAndRules() {
        Config c = parse("loopback=mptcp,rules=tcp connect 10.0.0.0/8 5432;mptcp bind * 8080", Map.of(), Map.of());
        assertEquals("enabled=true,mode=all,fallback=tcp,log=warn,options=compat,listeners=convert,log_output=stderr,loopback=mptcp,"
                + "rules=tcp connect 10.0.0.0/8 5432;mptcp bind * 8080,cache=on,jdk=on,netty=on,race=on,race_delay=250,blackhole_ttl=600,paths=on", c.text);
        assertEquals(2, c.rules.list().size());
        assertEquals("agent arguments, rule 1", c.rules.get(0).origin);
        Config p = parse("", Map.of("mptcp.agent.rules", "tcp bind ::1 80"), Map.of("MPTCP_AGENT_LOOPBACK", "mptcp"));
        assertEquals(1, p.rules.list().size());
        assertEquals("system property mptcp.agent.rules, rule 1", p.rules.get(0).origin);
        assertEquals("invalid value 'yes' for option 'loopback' in agent arguments; allowed: tcp|mptcp",
                assertThrows(IllegalArgumentException.class, () -> parse("loopback=yes", Map.of(), Map.of())).getMessage());
        String e = assertThrows(IllegalArgumentException.class,
                () -> parse("", Map.of(), Map.of("MPTCP_AGENT_RULES", "tcp connect 10.0.0.0/8;tcp listen *"))).getMessage();
        assertTrue(e.startsWith("invalid rule (environment variable MPTCP_AGENT_RULES, rule 2, column 5): unknown scope"
                + " 'listen' (connect or bind); a rule is ACTION SCOPE"), e);
    }

    /**
     * Issue 21, item 2: whatever the arguments, an error is one line of printable ASCII that shows at most 80
     * characters of what it read per quoted excerpt (here 600 random argument strings and a few hand-made ones).
     */
    @Test
    void errorLinesNeverEchoMoreThanAnExcerpt() {
        java.util.Random random = new java.util.Random(21);
        String alphabet = "=,;@ */-:.#\t\r\n\u001b\u0000\u0661\u00e9\ud83dmodelogrulestcpconnectbind0123456789abcdef";
        java.util.List<String> inputs = new java.util.ArrayList<>(java.util.List.of(
                "mode=" + "x".repeat(50 * 1024 * 1024), "x".repeat(1000) + "=1", "rules=tcp connect " + "1".repeat(10_000),
                "log=\u001b]0;owned\u0007\r\nmptcp-agent: INFO: fake", "rules=tcp connect *;" + "tcp bind ".repeat(5000)));
        for (int i = 0; i < 600; i++) {
            StringBuilder b = new StringBuilder();
            for (int n = random.nextInt(i % 10 == 0 ? 3000 : 60); n > 0; n--) {
                b.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            inputs.add(random.nextBoolean() ? "rules=" + b : b.toString());
        }
        for (String args : inputs) {
            String message;
            try {
                Config.parse(args, k -> null, k -> null);
                continue;
            } catch (IllegalArgumentException e) {
                message = e.getMessage();
            }
            assertTrue(message.chars().allMatch(c -> c >= 0x20 && c < 0x7f), message);
            assertTrue(message.length() < 800, message.length() + ": " + message);
            // each quoted excerpt: at most 80 characters
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("'((?:[^'\\\\]|\\\\.)*)'").matcher(message);
            while (m.find()) {
                assertTrue(m.group(1).length() <= Excerpt.MAX, message);
            }
        }
    }

    /** Issue 21, 8d: the cache key's help names java.io.tmpdir, as the code uses it (not $TMPDIR, which it never reads). */
    @Test
    void cacheHelpNamesWhatTheCodeReads() {
        assertTrue(Config.help("cache").contains("java.io.tmpdir (default /tmp)"), Config.help("cache"));
        assertFalse(Config.help("cache").contains("TMPDIR"), Config.help("cache"));
    }

    /** A run-time change: given keys replace those keys, the others keep their values and where they came from. */
    @Test
    void withReplacesOnlyTheGivenKeys() {
        Config start = parse("mode=server,rules=tcp connect 10.0.0.0/8", Map.of(), Map.of("MPTCP_AGENT_LOG", "info"));
        Config off = start.with("enabled=false,log=debug", "attach, uid 0");
        assertFalse(off.enabled);
        assertEquals(Log.Level.DEBUG, off.log);
        assertTrue(off.convertsServers() && !off.convertsClients(), "mode stays server");
        assertEquals("attach, uid 0", off.source("log"));
        assertEquals("agent arguments", off.source("mode"));
        assertEquals("default", off.source("fallback"));
        assertTrue(off.rules == start.rules, "rules neither given nor changed: the same rules, not parsed again");
        assertEquals("enabled=false,mode=server,fallback=tcp,log=debug,options=compat,listeners=convert,log_output=stderr,"
                + "loopback=tcp,rules=tcp connect 10.0.0.0/8,cache=on,jdk=on,netty=on,race=on,race_delay=250,blackhole_ttl=600,paths=on", off.text);
        Config rules = off.with("rules=", "attach, uid 0");
        assertEquals(4, rules.rules.list().size(), "the application's rules removed, the loopback ones left");
        assertEquals("", rules.value("rules"));
        Config loop = off.with("loopback=mptcp", "attach");
        assertEquals(1, loop.rules.list().size());
        assertEquals("agent arguments, rule 1", loop.rules.get(0).origin, "re-parsed from where it came from");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> start.with("mode=both", "attach"));
        assertEquals("invalid value 'both' for option 'mode' in attach; allowed: all|server|client", bad.getMessage());
    }

    @Test
    void raceKeys() {
        Config c = parse(null, Map.of(), Map.of());
        assertTrue(c.race);
        assertEquals(250, c.raceDelayMillis);
        assertEquals(600, c.blackholeTtlSeconds);
        Config off = parse("race=off,race_delay=100", Map.of("mptcp.agent.blackhole_ttl", "5"), Map.of());
        assertFalse(off.race);
        assertEquals(100, off.raceDelayMillis);
        assertEquals(5, off.blackholeTtlSeconds);
        assertEquals("invalid value '5s' for option 'race_delay' in agent arguments; allowed: a whole number from 10 to 5000",
                assertThrows(IllegalArgumentException.class, () -> parse("race_delay=5s", Map.of(), Map.of())).getMessage());
        assertEquals("invalid value '0' for option 'blackhole_ttl' in environment variable MPTCP_AGENT_BLACKHOLE_TTL;"
                + " allowed: a whole number from 1 to 86400",
                assertThrows(IllegalArgumentException.class, () -> parse(null, Map.of(), Map.of("MPTCP_AGENT_BLACKHOLE_TTL", "0")))
                        .getMessage());
        assertEquals("invalid value 'maybe' for option 'race' in agent arguments; allowed: on|off",
                assertThrows(IllegalArgumentException.class, () -> parse("race=maybe", Map.of(), Map.of())).getMessage());
    }
}
