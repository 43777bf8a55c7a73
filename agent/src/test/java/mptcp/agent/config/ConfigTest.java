package mptcp.agent.config;

import mptcp.agent.log.Log;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        assertEquals(Config.Mode.ALL, c.mode);
        assertEquals(Config.Fallback.TCP, c.fallback);
        assertEquals(Log.Level.WARN, c.log);
        assertTrue(c.convertListeners);
        assertEquals("enabled=true,mode=all,fallback=tcp,log=warn,options=compat,listeners=convert,jdk=on", c.text);
    }

    @Test
    void agentArgumentsBeatPropertiesBeatEnvironment() {
        Map<String, String> env = Map.of("MPTCP_AGENT_MODE", "server", "MPTCP_AGENT_LOG", "debug", "MPTCP_AGENT_FALLBACK", "fail");
        Map<String, String> props = Map.of("mptcp.agent.mode", "client", "mptcp.agent.log", "info");
        Config c = parse("mode=all", props, env);
        assertEquals(Config.Mode.ALL, c.mode);
        assertEquals(Log.Level.INFO, c.log);
        assertEquals(Config.Fallback.FAIL, c.fallback);
    }

    @Test
    void errorsNameKeySourceAndAllowedValues() {
        assertEquals("invalid value 'x' for option 'mode' in agent arguments; allowed: all|server|client",
                assertThrows(IllegalArgumentException.class, () -> parse("mode=x", Map.of(), Map.of())).getMessage());
        assertEquals("unknown option 'foo' in agent arguments; known options: enabled, mode, fallback, log, options, listeners, jdk",
                assertThrows(IllegalArgumentException.class, () -> parse("foo=1", Map.of(), Map.of())).getMessage());
        assertEquals("option 'log' given twice in agent arguments",
                assertThrows(IllegalArgumentException.class, () -> parse("log=info,log=debug", Map.of(), Map.of())).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("mode=server,", Map.of(), Map.of()))
                .getMessage().startsWith("invalid option '' in agent arguments: expected key=value"));
        assertEquals("invalid value 'TRUE' for option 'enabled' in environment variable MPTCP_AGENT_ENABLED; allowed: true|false",
                assertThrows(IllegalArgumentException.class, () -> parse("", Map.of(), Map.of("MPTCP_AGENT_ENABLED", "TRUE"))).getMessage());
    }
}
