package mptcp.sys;

import com.kenai.jffi.AgentBinding;

/**
 * Native 8-byte scratch buffers (an int and its length) shared by all threads, so that reading or writing an int
 * option allocates nothing in steady state (it runs after every connect and accept). A small pool under a lock held
 * for a few instructions (not an AtomicLongArray, whose VarHandle's first use loads and links classes at the
 * application's first socket); 0 marks an empty slot.
 */
final class Scratch {
    private static final long[] BUFFERS = new long[64];

    private Scratch() {
    }

    /** A buffer of 8 bytes, or 0 when memory is exhausted. */
    static long take() {
        synchronized (BUFFERS) {
            for (int i = 0; i < BUFFERS.length; i++) {
                long buffer = BUFFERS[i];
                if (buffer != 0) {
                    BUFFERS[i] = 0;
                    return buffer;
                }
            }
        }
        return AgentBinding.allocate(8, false);
    }

    static void giveBack(long buffer) {
        synchronized (BUFFERS) {
            for (int i = 0; i < BUFFERS.length; i++) {
                if (BUFFERS[i] == 0) {
                    BUFFERS[i] = buffer;
                    return;
                }
            }
        }
        AgentBinding.free(buffer);
    }
}
