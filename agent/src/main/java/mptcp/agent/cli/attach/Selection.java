package mptcp.agent.cli.attach;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which JVMs {@code attach --all} and {@code --watch} take: every JVM this command may attach to (root: any user's,
 * also in containers), whose command line (/proc/PID/cmdline, arguments joined by spaces) some {@code --include}
 * regular expression finds (all when none is given) and no {@code --exclude} finds (exclude wins); a JVM that opted
 * out ({@link Target#optOut}) only with {@code --force}.
 */
public final class Selection {
    private final List<Pattern> include = new ArrayList<>();
    private final List<Pattern> exclude = new ArrayList<>();
    private final List<String> includeText = new ArrayList<>();
    private final List<String> excludeText = new ArrayList<>();
    private final boolean force;
    private final int me = Target.ownEuid();
    private final long self = ProcessHandle.current().pid();

    public Selection(List<String> include, List<String> exclude, boolean force) {
        for (String r : include) {
            this.include.add(compile("--include", r));
            this.includeText.add(r);
        }
        for (String r : exclude) {
            this.exclude.add(compile("--exclude", r));
            this.excludeText.add(r);
        }
        this.force = force;
    }

    private static Pattern compile(String option, String regex) {
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException(option + " '" + regex + "' is not a regular expression: "
                    + e.getDescription() + " near index " + e.getIndex());
        }
    }

    /** What the selection makes of one process. */
    public enum Verdict {
        /**
         * Not for this command whatever it runs, as long as it does not exec another program: another user's without
         * root, a kernel thread, gone, this command, or a command line no --include asks for.
         */
        OTHER,
        /** Not a JVM (nor a Java launcher about to load one). */
        NONE,
        /**
         * A JVM that is not attachable yet (a Java launcher that has not loaded its JVM, or a JVM whose SIGQUIT handler
         * is not installed): look again later.
         */
        NOT_YET,
        /** A JVM left out by --include/--exclude. */
        EXCLUDED,
        /** A JVM that opted out (without --force). */
        OPTED_OUT,
        /** A JVM to attach to. */
        SELECTED
    }

    /** The verdict on {@code t} and, for EXCLUDED and OPTED_OUT, why. */
    public static final class Decision {
        public final Verdict verdict;
        public final String why;

        Decision(Verdict verdict, String why) {
            this.verdict = verdict;
            this.why = why;
        }
    }

    public Decision decide(Target t) {
        if (t.pid == self || t.argv.isEmpty() || (me != 0 && t.euid != me)) {
            return new Decision(Verdict.OTHER, null);
        }
        String cmd = t.commandLine(); // the command line first: it costs nothing more, /proc/PID/maps does
        if (!include.isEmpty() && include.stream().noneMatch(p -> p.matcher(cmd).find())) {
            return new Decision(Verdict.OTHER, null); // not asked for: not mentioned
        }
        boolean starting;
        try {
            starting = !t.isJvm();
            if (starting && !t.isStartingJvm()) {
                return new Decision(Verdict.NONE, null);
            }
        } catch (IOException e) {
            return new Decision(Verdict.OTHER, null); // gone, or a process this command may not look into
        }
        for (int i = 0; i < exclude.size(); i++) {
            if (exclude.get(i).matcher(cmd).find()) {
                return new Decision(Verdict.EXCLUDED, "--exclude '" + excludeText.get(i) + "'");
            }
        }
        try {
            String out = t.optOut();
            if (out != null && !force) {
                return new Decision(Verdict.OPTED_OUT, "opted out: " + out + " (--force attaches anyway)");
            }
        } catch (NoSuchFileException e) {
            return new Decision(Verdict.OTHER, null);
        } catch (IOException e) {
            if (!force) {
                return new Decision(Verdict.OPTED_OUT, e.getMessage() + " (--force attaches anyway)");
            }
        }
        if (starting) {
            return new Decision(Verdict.NOT_YET, "its JVM is not loaded yet");
        }
        if (!t.catchesQuit) {
            return new Decision(Verdict.NOT_YET, "its SIGQUIT handler is not installed yet");
        }
        return new Decision(Verdict.SELECTED, null);
    }
}
