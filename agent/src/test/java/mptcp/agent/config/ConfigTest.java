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
        assertEquals("enabled=true,mode=all,fallback=tcp,log=warn,options=compat,listeners=convert,log_output=stderr,loopback=tcp,cache=on,jdk=on,netty=on,paths=on", c.text);
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
        assertEquals("unknown option 'foo' in agent arguments; known options: enabled, mode, fallback, log, options, listeners, log_output, loopback, rules, cache, jdk, netty, paths",
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
                + "rules=tcp connect 10.0.0.0/8 5432;mptcp bind * 8080,cache=on,jdk=on,netty=on,paths=on", c.text);
        assertEquals(2, c.rules.list().size());
        assertEquals("agent arguments, rule 1", c.rules.get(0).origin);
        Config p = parse("", Map.of("mptcp.agent.rules", "tcp bind ::1 80"), Map.of("MPTCP_AGENT_LOOPBACK", "mptcp"));
        assertEquals(1, p.rules.list().size());
        assertEquals("system property mptcp.agent.rules, rule 1", p.rules.get(0).origin);
        assertEquals("invalid value 'yes' for option 'loopback' in agent arguments; allowed: tcp|mptcp",
                assertThrows(IllegalArgumentException.class, () -> parse("loopback=yes", Map.of(), Map.of())).getMessage());
        String e = assertThrows(IllegalArgumentException.class,
                () -> parse("", Map.of(), Map.of("MPTCP_AGENT_RULES", "tcp connect 10.0.0.0/8;tcp listen *"))).getMessage();
        assertTrue(e.startsWith("invalid rule 'tcp listen *' (environment variable MPTCP_AGENT_RULES, rule 2): unknown scope"
                + " 'listen'; a rule is ACTION SCOPE"), e);
    }
}
