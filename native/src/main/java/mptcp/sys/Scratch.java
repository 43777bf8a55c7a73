package mptcp.sys;

import com.kenai.jffi.AgentBinding;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Native 8-byte scratch buffers (an int and its length) shared by all threads, so that reading or writing an int
 * option allocates nothing in steady state (it runs after every connect and accept). 0 marks an empty slot.
 */
final class Scratch {
    private static final AtomicLongArray BUFFERS = new AtomicLongArray(64);

    private Scratch() {
    }

    /** A buffer of 8 bytes, or 0 when memory is exhausted. */
    static long take() {
        int start = (int) (Thread.currentThread().getId() & 63);
        for (int i = 0; i < 64; i++) {
            long buffer = BUFFERS.getAndSet((start + i) & 63, 0);
            if (buffer != 0) {
                return buffer;
            }
        }
        return AgentBinding.allocate(8, false);
    }

    static void giveBack(long buffer) {
        int start = (int) (Thread.currentThread().getId() & 63);
        for (int i = 0; i < 64; i++) {
            if (BUFFERS.compareAndSet((start + i) & 63, 0, buffer)) {
                return;
            }
        }
        AgentBinding.free(buffer);
    }
}
