package mptcp.agent.boot;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.MalformedURLException;
import java.net.URL;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.Collections;
import java.util.Enumeration;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

/**
 * Loads the agent's internals from the {@code inst/} folder of the agent jar, where classes are packed into one entry,
 * {@code inst/classes.blob} (see mptcp.build.ClassBlob; a jar built otherwise may hold {@code .classdata} entries), so
 * that the application's class loader (which has the agent jar on its class path) cannot see them. Its parent is the platform class loader: the agent sees the JDK and nothing of the application, and
 * the application never sees the agent's jnr-ffi, jffi or ASM.
 *
 * <p>Start-up cost matters here (every class of the agent passes through this loader; see docs/performance.md):
 * classes of the agent's own packages are looked up in the jar first instead of after a failed search of the
 * platform class loader (which throws a ClassNotFoundException per class), class bytes are read in one call into an
 * array of the entry's size, and no string concatenation is compiled to invokedynamic on this path (the first one
 * bootstraps StringConcatFactory, 10-15 ms on a 2-core machine).
 */
final class AgentLoader extends ClassLoader implements java.util.function.Consumer<Object> {
    private static final String PREFIX = "inst/";
    /** Packages that only the agent jar holds (the agent, its native binding, jnr-ffi, jffi, ASM): looked up here first. */
    private static final String[] OWN = {"mptcp.", "jnr.", "com.kenai.jffi.", "org.objectweb.asm."};

    static {
        registerAsParallelCapable();
    }

    private final JarFile jar;
    /** inst/classes.blob (see mptcp.build.ClassBlob) and its index; null when the jar has per-class entries. */
    private final ZipEntry blob;
    private final byte[] index;
    private final int count;
    private final int namesStart;
    private final long dataStart;
    /** The agent's entry object, registered by its class (see {@link #accept}). */
    private Object entry;
    private final String jarUrl;
    private final ProtectionDomain domain;

    AgentLoader(CodeSource source) throws IOException {
        super("mptcp-agent", ClassLoader.getPlatformClassLoader());
        File file;
        try {
            file = new File(source.getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IOException("cannot locate the agent jar from " + source.getLocation(), e);
        }
        this.jar = new JarFile(file, false);
        this.jarUrl = file.toURI().toString();
        ZipEntry b = jar.getEntry(PREFIX.concat("classes.blob"));
        byte[] idx = null;
        int n = 0;
        int names = 0;
        if (b != null) {
            try (InputStream in = jar.getInputStream(b)) {
                byte[] head = in.readNBytes(16);
                if (head.length != 16 || head[0] != 'M' || head[7] != '1') {
                    throw new IOException("not a class blob");
                }
                n = readInt(head, 8);
                idx = in.readNBytes(20 * n + readInt(head, 12));
                names = 20 * n;
            }
        }
        this.blob = b;
        this.index = idx;
        this.count = n;
        this.namesStart = names;
        this.dataStart = idx == null ? 0 : 16L + idx.length;
        this.domain = new ProtectionDomain(source, null, this, null);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (!isOwn(name)) {
            return super.loadClass(name, resolve);
        }
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                c = define(name);
            }
            if (c == null) {
                c = super.loadClass(name, false); // not in the jar after all: the usual parent-first search
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        Class<?> c = define(name);
        if (c == null) {
            throw new ClassNotFoundException(name);
        }
        return c;
    }

    private static boolean isOwn(String name) {
        for (String prefix : OWN) {
            if (name.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    /** The record number of class {@code name} in the blob's sorted names (binary search, nothing allocated), or -1. */
    private int find(String name) {
        int lo = 0;
        int hi = count - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int off = namesStart + readInt(index, 20 * mid);
            int len = readInt(index, 20 * mid + 4);
            int c = 0;
            int common = Math.min(len, name.length());
            for (int i = 0; i < common && c == 0; i++) {
                c = (index[off + i] & 0xFF) - name.charAt(i);
            }
            if (c == 0) {
                c = len - name.length();
            }
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** The bytes of class {@code name} from the blob, or null. */
    private byte[] fromBlob(String name) throws IOException {
        int r = find(name);
        if (r < 0) {
            return null;
        }
        long offset = dataStart + (readInt(index, 20 * r + 8) & 0xFFFFFFFFL);
        int packed = readInt(index, 20 * r + 12);
        byte[] bytes = new byte[readInt(index, 20 * r + 16)];
        try (InputStream in = jar.getInputStream(blob)) {
            in.skipNBytes(offset); // the blob is stored: a skip is a seek
            byte[] input = in.readNBytes(packed);
            java.util.zip.Inflater inflater = new java.util.zip.Inflater(true);
            try {
                inflater.setInput(input);
                int n = inflater.inflate(bytes);
                if (n != bytes.length || !inflater.finished()) {
                    throw new IOException("damaged class blob entry " + name);
                }
            } catch (java.util.zip.DataFormatException e) {
                throw new IOException("damaged class blob entry " + name, e);
            } finally {
                inflater.end();
            }
        }
        return bytes;
    }

    /** Defines {@code name} from the blob or {@code inst/<name>.classdata}; null when the jar has no such class. */
    private Class<?> define(String name) throws ClassNotFoundException {
        if (blob != null) {
            try {
                byte[] bytes = fromBlob(name);
                return bytes == null ? null : defineClass(name, bytes, 0, bytes.length, domain);
            } catch (IOException e) {
                throw new ClassNotFoundException(name, e);
            }
        }
        String path = new StringBuilder(PREFIX.length() + name.length() + 10)
                .append(PREFIX).append(name.replace('.', '/')).append(".classdata").toString();
        ZipEntry entry = jar.getEntry(path);
        if (entry == null) {
            return null;
        }
        try (InputStream in = jar.getInputStream(entry)) {
            byte[] bytes = readAll(in, entry.getSize());
            return defineClass(name, bytes, 0, bytes.length, domain);
        } catch (IOException e) {
            throw new ClassNotFoundException(name, e);
        }
    }

    @Override
    protected URL findResource(String name) {
        if (jar.getEntry(PREFIX.concat(name)) == null) {
            return null;
        }
        try {
            return new URL("jar:".concat(jarUrl).concat("!/").concat(PREFIX).concat(name));
        } catch (MalformedURLException e) {
            return null;
        }
    }

    @Override
    protected Enumeration<URL> findResources(String name) {
        URL url = findResource(name);
        return url == null ? Collections.emptyEnumeration() : Collections.enumeration(Collections.singletonList(url));
    }

    @Override
    public InputStream getResourceAsStream(String name) {
        ZipEntry entry = jar.getEntry(PREFIX.concat(name));
        if (entry == null) {
            return super.getResourceAsStream(name);
        }
        try {
            return jar.getInputStream(entry);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Registers an entry object of the agent: an agent class hands it over from its static initialiser, so that the
     * launcher reaches the agent through a JDK interface and without reflection (on JDK 18+ a reflective call spins
     * method handles: several ms at start-up). Until the launcher takes it, the first registration wins.
     */
    @Override
    public synchronized void accept(Object entry) {
        if (this.entry == null) {
            this.entry = entry;
        }
    }

    /** The registered entry object, or null; the next class may then register its own. */
    synchronized Object take() {
        Object e = entry;
        entry = null;
        return e;
    }

    /**
     * The packages of the classes under inst/, for the agent's named module (see Launcher): from the list the build
     * writes into the jar, else (a jar built otherwise) from the jar's entries.
     */
    java.util.Set<String> packages() {
        java.util.Set<String> packages = new java.util.HashSet<>();
        ZipEntry list = jar.getEntry(PREFIX.concat("mptcp-agent.packages"));
        if (list != null) {
            try (InputStream in = jar.getInputStream(list)) {
                String text = new String(readAll(in, list.getSize()), java.nio.charset.StandardCharsets.UTF_8);
                for (String line : text.split("\n")) {
                    String p = line.trim();
                    if (!p.isEmpty()) {
                        packages.add(p.replace('/', '.'));
                    }
                }
                return packages;
            } catch (IOException e) {
                packages.clear(); // read the entries instead
            }
        }
        for (int r = 0; r < count; r++) {
            String n = new String(index, namesStart + readInt(index, 20 * r), readInt(index, 20 * r + 4),
                    java.nio.charset.StandardCharsets.US_ASCII);
            int dot = n.lastIndexOf('.');
            if (dot > 0) {
                packages.add(n.substring(0, dot));
            }
        }
        for (java.util.Enumeration<java.util.jar.JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
            String name = e.nextElement().getName();
            int slash = name.lastIndexOf('/');
            if (name.startsWith(PREFIX) && name.endsWith(".classdata") && slash > PREFIX.length()) {
                packages.add(name.substring(PREFIX.length(), slash).replace('/', '.'));
            }
        }
        return packages;
    }

    /** Resources of the agent's named module: the same as its unnamed view. */
    @Override
    protected URL findResource(String moduleName, String name) {
        return findResource(name);
    }

    private static byte[] readAll(InputStream in, long size) throws IOException {
        if (size < 0 || size > Integer.MAX_VALUE) {
            return in.readAllBytes();
        }
        byte[] bytes = new byte[(int) size];
        int n = in.readNBytes(bytes, 0, bytes.length);
        if (n != bytes.length || in.read() >= 0) {
            throw new IOException("truncated or oversized jar entry (" + n + " of " + size + " bytes)");
        }
        return bytes;
    }
}
