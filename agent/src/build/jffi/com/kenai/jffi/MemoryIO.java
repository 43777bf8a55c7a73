package com.kenai.jffi;

/**
 * Compile-time stand-in for jffi's MemoryIO, so that MemoryIO$SingletonHolder can be compiled under its binary name
 * (against the real jffi jar javac confuses it with the real nested class). Never shipped: only the holder's class
 * file is copied into the agent (agent/pom.xml); at run time it links to jffi's real MemoryIO, whose
 * {@code getCheckedInstance()} has this signature.
 */
public abstract class MemoryIO {
    public static MemoryIO getCheckedInstance() {
        throw new UnsupportedOperationException("stand-in");
    }
}
