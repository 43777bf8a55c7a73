package mptcp.agent.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;

import org.junit.jupiter.api.Test;

class TrampolineTest {
    public static int twice(int x) {
        return 2 * x;
    }

    public static String greet(Object receiver, String name) {
        return receiver + " greets " + name;
    }

    @Test
    void handlerDescriptorsPutTheReceiverFirst() {
        Redirect s = Redirect.ofStatic("x/Owner", "twice", "(I)I", TrampolineTest.class, "x/Caller");
        Redirect i = Redirect.ofInstance("x/Owner", "greet", "(Ljava/lang/String;)Ljava/lang/String;",
                TrampolineTest.class, "x/Caller");
        assertEquals("(I)I", s.handlerDesc());
        assertEquals("(Ljava/lang/Object;Ljava/lang/String;)Ljava/lang/String;", i.handlerDesc());
        assertEquals("x.Owner.greet(Ljava/lang/String;)Ljava/lang/String;", i.toString());
    }

    @Test
    void trampolineCallsTheHandlersThroughTheDispatchClass() throws Throwable {
        Redirect s = Redirect.ofStatic("x/Owner", "twice", "(I)I", TrampolineTest.class, "x/Caller");
        Redirect i = Redirect.ofInstance("x/Owner", "greet", "(Ljava/lang/String;)Ljava/lang/String;",
                TrampolineTest.class, "x/Caller");
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        Class<?> hook = lookup.defineClass(Trampoline.bytes("mptcp/agent/engine/TestHook", List.of(s, i)));
        assertNull(hook.getField(Trampoline.FIELD).get(null), "no dispatch before the dispatch class is initialised");
        Class<?> dispatch = lookup.defineClass(Trampoline.dispatch("mptcp/agent/engine/TestDispatch",
                "mptcp/agent/engine/TestHook", List.of(s, i)));
        Class.forName(dispatch.getName(), true, dispatch.getClassLoader());
        assertSame(dispatch, hook.getField(Trampoline.FIELD).get(null).getClass());
        assertEquals(42, (int) lookup.findStatic(hook, "twice", MethodType.methodType(int.class, int.class)).invokeExact(21));
        assertEquals("a greets b", (String) lookup.findStatic(hook, "greet",
                MethodType.methodType(String.class, Object.class, String.class)).invokeExact((Object) "a", "b"));
    }

    @Test
    void theOriginalIsLookedUpAtItsFirstUse() throws Throwable {
        // a private static method, as most of the JDK's socket natives are (java.lang is opened to the tests in the pom)
        Redirect r = Redirect.ofStatic("java/lang/Integer", "toUnsignedString0", "(II)Ljava/lang/String;",
                TrampolineTest.class, "x/Caller");
        assertFalse(r.installed());
        assertEquals("ff", (String) r.original().invokeExact(255, 4));
        assertSame(r.original(), r.original());
        Redirect missing = Redirect.ofStatic("java/lang/Integer", "noSuchMethod", "(I)I", TrampolineTest.class, "x/C");
        assertThrows(IllegalStateException.class, missing::original);
    }
}
