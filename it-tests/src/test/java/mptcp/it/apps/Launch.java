package mptcp.it.apps;

import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;

/**
 * Entry point of every test child JVM: prints {@code JVM <feature> <version>} (this JVM's {@link Runtime#version()}),
 * then runs {@code args[0]}'s main with the remaining arguments. The test asserts the line, so a "JDK 17" child that
 * is really another JDK fails instead of silently testing something else.
 */
public final class Launch {
    private Launch() {
    }

    public static void main(String[] args) throws Throwable {
        System.out.println("JVM " + Runtime.version().feature() + " " + Runtime.version());
        System.out.flush();
        try {
            Class.forName(args[0]).getMethod("main", String[].class).invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
