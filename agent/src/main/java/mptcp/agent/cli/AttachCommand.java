package mptcp.agent.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;

import mptcp.agent.config.Build;
import mptcp.agent.config.Config;
import mptcp.agent.config.Rules;
import mptcp.agent.report.AttachRequest;

/**
 * {@code attach <pid> [options]}: what one attach means for one JVM. Where the agent is not yet active it is loaded
 * and installed with the options; where it is active the options change its configuration at run time (given keys
 * replace those keys, the others stay; {@code enabled=false} switches it off and hands its MPTCP listeners back to
 * TCP). Either way the agent in that JVM answers what happened there ({@link AttachRequest}), and that answer is what
 * is printed: one line for the JVM, then one per listener affected.
 */
final class AttachCommand {
    /** HotSpot's attach protocol carries at most 1024 bytes per argument, and {@code <jar>=<options>} is one. */
    private static final int ARGUMENT_MAX = 1024;
    /**
     * Room kept for the jar's path as the target sees it: the CLI's own, or longer (a copy inside a container's mount
     * namespace), whichever is more.
     */
    private static final int JAR_ROOM = 320;
    /** Options longer than one argument go in parts, one load each; at most this many. */
    static final int MAX_PARTS = 12;
    /** The request's header: "@attach=" nonce "/" uid "/" part "/" parts ":". */
    private static final int HEADER_MAX = AttachRequest.REQUEST.length() + 16 + 1 + 11 + 1 + 2 + 1 + 2 + 1;

    private AttachCommand() {
    }

    /** What happened in one JVM, as the agent there said it (or why it could not say). */
    static final class Outcome {
        /** The agent is loaded AND enabled in that JVM afterwards. */
        final boolean active;
        /** This call's options took effect (false: refused, or not applied and why in {@link #lines}). */
        final boolean applied;
        /** First line: what happened in that JVM, said by the target itself; then one per listener. */
        final List<String> lines;

        Outcome(boolean active, boolean applied, List<String> lines) {
            this.active = active;
            this.applied = applied;
            this.lines = Collections.unmodifiableList(new ArrayList<>(lines));
        }
    }

    static int run(List<String> args, PrintStream out) {
        if (args.isEmpty() || args.size() > 2) {
            throw new UsageException("usage: attach <pid> [key=value,...]");
        }
        String prepared = prepare(args.size() == 2 ? args.get(1) : "");
        String pid = AttachSession.checkPid(args.get(0));
        Outcome o;
        boolean switchedOff;
        try (AttachSession target = AttachSession.open(pid)) {
            o = attachOne(target, prepared);
            String active = target.properties().getProperty(Build.ACTIVE_PROPERTY);
            switchedOff = active != null && !Build.enabled(active);
        } catch (UsageException e) {
            throw e;
        } catch (Exception e) {
            System.err.println("mptcp-agent: attaching to JVM " + pid + " failed: " + e);
            return 1;
        }
        o.lines.forEach(out::println);
        // not active, on purpose: switched off by this command or an earlier one (enabled=false), or asked not to install
        boolean offOnPurpose = switchedOff || ("," + prepared + ",").contains(",enabled=false,");
        return o.applied && (o.active || offOnPurpose) ? 0 : 1;
    }

    /**
     * Checks options once for all JVMs (unknown key, bad value, @FILE made usable for a target whose working directory
     * and mount namespace differ from the CLI's); throws UsageException with the one-line message. A rules file
     * ({@code rules=@FILE}) is read here, relative to this command's working directory, and its rules are sent
     * inline: the target reads nothing from disk.
     */
    static String prepare(String options) {
        String prepared;
        try {
            Config.parse(options, k -> null, k -> null); // the same message as in the target, but here, before attaching
            prepared = inlineRules(options);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        int bytes = prepared.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_PARTS * partBytes()) {
            throw new UsageException("options too long for attach (" + bytes + " bytes; the attach protocol takes at most "
                    + MAX_PARTS * partBytes() + "): give fewer rules, or start the JVM with"
                    + " -javaagent:mptcp-agent.jar=rules=@FILE");
        }
        return prepared;
    }

    /** {@code rules=@FILE} replaced by the file's rules, inline ({@code rule;rule}); other options as given. */
    private static String inlineRules(String options) {
        if (options == null || options.isEmpty()) {
            return "";
        }
        List<String> out = new ArrayList<>();
        for (String option : options.split(",", -1)) {
            if (option.startsWith("rules=@")) {
                List<String> rules = new ArrayList<>();
                for (Rules.Rule r : Rules.parse(option.substring("rules=".length()), "agent arguments", false).list()) {
                    rules.add(r.toString());
                }
                option = "rules=" + String.join(";", rules);
            }
            out.add(option);
        }
        return String.join(",", out);
    }

    /** Bytes of options one load carries. */
    private static int partBytes() {
        return ARGUMENT_MAX - 1 - JAR_ROOM - 1 - HEADER_MAX;
    }

    /** Attaches to (or reconfigures the agent in) one JVM with prepared options; never prints. */
    static Outcome attachOne(AttachSession target, String prepared) throws Exception {
        String here = "mptcp-agent in JVM " + target.pid + ": ";
        Properties before = target.properties();
        String active = before.getProperty(Build.ACTIVE_PROPERTY);
        if (active != null && before.getProperty(Build.REQUESTS_PROPERTY) == null) {
            return new Outcome(Build.enabled(active), false, List.of(here + "an older build of the agent is active there ("
                    + active + "); it takes no run-time change, so nothing was sent: restart that JVM to use this build"));
        }
        String nonce = Long.toHexString(new java.security.SecureRandom().nextLong() & Long.MAX_VALUE);
        List<String> parts = parts(prepared);
        int uid = ownUid();
        for (int i = 0; i < parts.size(); i++) {
            target.load(AttachRequest.request(nonce, uid, i + 1, parts.size(), parts.get(i)));
        }
        Properties after = target.properties();
        String wire = after.getProperty(AttachRequest.PROPERTY + nonce); // removed there by a request a minute later
        AttachRequest.Answer answer = AttachRequest.Answer.parse(wire);
        if (answer == null) {
            String now = after.getProperty(Build.ACTIVE_PROPERTY);
            return new Outcome(Build.enabled(now), false, List.of(here + "the agent loaded there did not answer"
                    + (now != null ? " (it is active: " + now + ")" : "") + "; an older build of the agent may be"
                    + " loaded in that JVM (its stderr says more)"));
        }
        return new Outcome(answer.active, answer.applied, answer.lines);
    }

    /** {@code prepared} cut into pieces of at most {@link #partBytes} bytes of UTF-8, whole characters each. */
    static List<String> parts(String prepared) {
        List<String> parts = new ArrayList<>();
        StringBuilder part = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < prepared.length(); ) {
            int cp = prepared.codePointAt(i);
            int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + n > partBytes()) {
                parts.add(part.toString());
                part.setLength(0);
                bytes = 0;
            }
            part.appendCodePoint(cp);
            bytes += n;
            i += Character.charCount(cp);
        }
        parts.add(part.toString());
        return parts;
    }

    /** The uid this command runs as (the owner of /proc/self), told to the agent for its status; -1 if unknown. */
    private static int ownUid() {
        try {
            return (Integer) Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }
}
