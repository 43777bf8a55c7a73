package mptcp.agent.cli.attach;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

import mptcp.sys.InRoot;

/**
 * The files this command needs in a target's mount namespace (its /tmp): HotSpot's attach socket and trigger file,
 * a copy of the agent jar when the target cannot see this command's own, the status channel's directory. A
 * container's root controls its /tmp and may plant links there that, followed from the host through
 * /proc/PID/root, would lead a root command out of the container (an absolute link resolves against the
 * <em>caller's</em> root). So nothing is reached by a path through /proc/PID/root: its root is opened once
 * ({@code O_PATH}) and every name is resolved from it with {@code openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)}
 * (links stay inside the container) and, in /tmp itself, {@code RESOLVE_NO_SYMLINKS}; files are then reached through
 * {@code /proc/self/fd/<fd>} (exactly the inode opened), new names are made as {@code /proc/self/fd/<dirfd>/NAME}
 * with O_EXCL, mkdir or bind (none of which follows a link in the last component), owners changed with lchown or on
 * the inode itself.
 */
public final class InTarget implements AutoCloseable {
    private final Target target;
    private final int root;
    private int tmp = -1;

    private InTarget(Target target, int root) {
        this.target = target;
        this.root = root;
    }

    /** Opens the root of {@code target}'s mount namespace. */
    public static InTarget open(Target target) throws IOException {
        int fd = InRoot.openPath(-1, "/proc/" + target.pid + "/root", 0);
        if (fd < 0) {
            throw failure("cannot open the root directory of process " + target.pid + " (/proc/" + target.pid + "/root)", -fd);
        }
        return new InTarget(target, fd);
    }

    static IOException failure(String what, int errno) {
        if (errno == InRoot.ENOSYS) {
            return new IOException(what + ": openat2 is missing (Linux 5.6 or later needed)");
        }
        if (errno == 13 || errno == 1) {
            return new java.nio.file.AccessDeniedException(what + ": permission denied (this command may look into"
                    + " another user's process only as root with CAP_SYS_PTRACE)");
        }
        return errno == InRoot.ENOENT ? new NoSuchFileException(what + ": no such file")
                : new IOException(what + ": " + mptcp.sys.Errno.describe(errno));
    }

    /** /proc/self/fd/FD: exactly the file {@code fd} was opened on. */
    static Path fd(int fd) {
        return Path.of("/proc/self/fd/" + fd);
    }

    /** The target's /tmp (where HotSpot keeps its attach files), resolved inside the target's root. */
    int tmp() throws IOException {
        if (tmp < 0) {
            int fd = InRoot.openPath(root, "tmp", InRoot.RESOLVE_IN_ROOT | InRoot.RESOLVE_NO_MAGICLINKS);
            if (fd < 0) {
                throw failure("cannot open /tmp of process " + target.pid, -fd);
            }
            tmp = fd;
            if (!"directory".equals(kind(attributes(fd)))) {
                throw new IOException("/tmp of process " + target.pid + " is not a directory");
            }
        }
        return tmp;
    }

    /** The unix attributes (mode, uid, gid, ino, dev, size) of the inode {@code fd} refers to. */
    static Map<String, Object> attributes(int fd) throws IOException {
        return Files.readAttributes(fd(fd), "unix:mode,uid,gid,ino,dev,size");
    }

    static String kind(Map<String, Object> a) {
        switch ((Integer) a.get("mode") & 0170000) {
            case 0040000: return "directory";
            case 0100000: return "file";
            case 0140000: return "socket";
            case 0120000: return "link";
            default: return "other";
        }
    }

    /**
     * An O_PATH fd of {@code name} in the target's /tmp, not following a link there; -1 when there is none (a link
     * counts as none: it is never followed).
     */
    int openInTmp(String name) throws IOException {
        int fd = InRoot.openPath(tmp(), name, InRoot.RESOLVE_NO_SYMLINKS | InRoot.RESOLVE_NO_MAGICLINKS
                | InRoot.RESOLVE_IN_ROOT);
        if (fd == -InRoot.ENOENT || fd == -InRoot.ELOOP) {
            return -1;
        }
        if (fd < 0) {
            throw failure("cannot open /tmp/" + name + " of process " + target.pid, -fd);
        }
        return fd;
    }

    /** HotSpot's attach socket {@code /tmp/.java_pid<nspid>}: an O_PATH fd, checked (a socket of the JVM's owner); -1 if none. */
    int attachSocket() throws IOException {
        int fd = openInTmp(".java_pid" + target.nspid);
        if (fd < 0) {
            return -1;
        }
        Map<String, Object> a = attributes(fd);
        if (!"socket".equals(kind(a)) || ((Integer) a.get("uid") != target.euid && (Integer) a.get("uid") != 0)) {
            InRoot.close(fd);
            throw new IOException("/tmp/.java_pid" + target.nspid + " of process " + target.pid + " is not the JVM's"
                    + " attach socket (a " + kind(a) + " of uid " + a.get("uid") + "): not used");
        }
        return fd;
    }

    /**
     * Creates HotSpot's trigger file {@code /tmp/.attach_pid<nspid>} owned by the JVM's user (HotSpot accepts root's
     * or its own); false if one is there already.
     */
    boolean createTrigger() throws IOException {
        Path p = fd(tmp()).resolve(".attach_pid" + target.nspid);
        try {
            Files.newByteChannel(p, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))).close();
        } catch (FileAlreadyExistsException e) {
            return false;
        }
        try {
            own(p);
        } catch (IOException e) {
            // HotSpot accepts root's trigger too; the user's is needed only where root is not root for the JVM
            // (a container with its own user namespace)
        }
        return true;
    }

    void removeTrigger() {
        try {
            Files.deleteIfExists(fd(tmp()).resolve(".attach_pid" + target.nspid)); // unlink: never follows a link
        } catch (IOException e) {
            // left behind: HotSpot ignores it once its listener runs
        }
    }

    /** lchown to the target's euid/egid when this command is root (else the file is already the user's own). */
    private void own(Path p) throws IOException {
        if (Target.ownEuid() == 0 && target.euid != 0) {
            Files.setAttribute(p, "unix:gid", target.egid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:uid", target.euid, LinkOption.NOFOLLOW_LINKS);
        }
    }

    /**
     * The agent jar as the target can open it: {@code jar} itself when the target sees this very file under the same
     * path (the host, or a container that mounts it) and its user may read it, else a copy in the target's /tmp,
     * {@code /tmp/.mptcp-agent.<uid>/mptcp-agent-<build>.jar}, the target's user's and read-only, in a directory only this
     * command's user can change ({@link #privateDir}: no other user of the container can change what that user's JVMs
     * load), kept while a JVM may load from it ({@link Copies}).
     */
    public String jar(Path jar, String build) throws IOException {
        Map<String, Object> ours = Files.readAttributes(jar, "unix:dev,ino,size");
        int same = InRoot.openPath(root, jar.toString().substring(1), InRoot.RESOLVE_IN_ROOT | InRoot.RESOLVE_NO_MAGICLINKS);
        if (same >= 0) {
            try {
                Map<String, Object> theirs = attributes(same);
                if (theirs.get("dev").equals(ours.get("dev")) && theirs.get("ino").equals(ours.get("ino"))
                        && readableBy(jar, target.euid, target.egid)) {
                    return jar.toString();
                }
            } finally {
                InRoot.close(same);
            }
        }
        String dirName = ".mptcp-agent." + target.euid;
        int dir = privateDir(dirName, true);
        try {
            String name = "mptcp-agent-" + build + ".jar";
            byte[] bytes = Files.readAllBytes(jar);
            int existing = InRoot.openPath(dir, name, InRoot.RESOLVE_NO_SYMLINKS | InRoot.RESOLVE_IN_ROOT);
            if (existing >= 0) {
                try {
                    Map<String, Object> a = attributes(existing);
                    if ("file".equals(kind(a)) && (Long) a.get("size") == bytes.length
                            && Arrays.equals(Files.readAllBytes(fd(existing)), bytes)) {
                        return "/tmp/" + dirName + "/" + name;
                    }
                } finally {
                    InRoot.close(existing);
                }
            }
            Path dirPath = fd(dir);
            Path temp = dirPath.resolve(name + ".tmp" + Long.toHexString(System.nanoTime()));
            boolean done = false;
            try {
                try (SeekableByteChannel out = Files.newByteChannel(temp, Set.of(StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r--------")))) {
                    ByteBuffer b = ByteBuffer.wrap(bytes);
                    while (b.hasRemaining()) {
                        out.write(b);
                    }
                }
                try {
                    own(temp);
                } catch (IOException noChown) {
                    // without CAP_CHOWN: this command's, readable by all, in a directory only it can change
                    Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("r--r--r--"));
                }
                Files.move(temp, dirPath.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                done = true;
            } finally {
                if (!done) {
                    Files.deleteIfExists(temp);
                }
            }
            return "/tmp/" + dirName + "/" + name;
        } finally {
            InRoot.close(dir);
        }
    }

    /**
     * Whether user {@code uid} (group {@code gid}; other groups it may have are not counted, so this may say no where
     * the kernel would say yes: a copy is then made) can read {@code file}: r on it, x on every directory above.
     */
    static boolean readableBy(Path file, int uid, int gid) {
        if (uid == 0) {
            return true;
        }
        try {
            Path p = file.toAbsolutePath();
            for (int level = 0; p != null; p = p.getParent(), level++) {
                Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid");
                int mode = (Integer) a.get("mode");
                int bits = (Integer) a.get("uid") == uid ? mode >> 6 : (Integer) a.get("gid") == gid ? mode >> 3 : mode;
                if ((bits & (level == 0 ? 4 : 1)) == 0) {
                    return false;
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * An O_PATH fd of the directory {@code name} in the target's /tmp, made if missing and {@code create}: one nobody but
     * this command's user can change. Made by root, it stays root's with mode 0711 (the target's user may only go
     * through it to the entries it is given, which are lchown'd to it; removing it needs no CAP_FOWNER in a sticky
     * /tmp); made by the JVM's own user, 0700. An existing one is used only if it is such a directory.
     */
    private int privateDir(String name, boolean create) throws IOException {
        int me = Target.ownEuid();
        int fd = openInTmp(name);
        if (fd < 0 && create) {
            try {
                Files.createDirectory(fd(tmp()).resolve(name), PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString(me == 0 ? "rwx--x--x" : "rwx------")));
            } catch (FileAlreadyExistsException raced) {
                // checked below like any existing one
            }
            fd = openInTmp(name);
        }
        if (fd < 0) {
            throw new IOException("/tmp/" + name + " of process " + target.pid + " could not be made (or is a link)");
        }
        Map<String, Object> a = attributes(fd);
        int mode = (Integer) a.get("mode");
        int owner = (Integer) a.get("uid");
        boolean ok = "directory".equals(kind(a)) && (owner == 0 ? (mode & 0022) == 0
                : owner == target.euid && owner == me && (mode & 0077) == 0);
        if (!ok) {
            InRoot.close(fd);
            throw new IOException("/tmp/" + name + " of process " + target.pid + " is not a directory of this command's"
                    + " user that only it can change (a " + kind(a) + " of uid " + owner + ", mode "
                    + Integer.toOctalString(mode & 07777) + "): not used");
        }
        return fd;
    }

    /**
     * A new directory ({@link #privateDir}) in the target's /tmp for one exchange with it, e.g. the status channel:
     * its O_PATH fd and its path as the target sees it.
     */
    Exchange exchange(String prefix) throws IOException {
        String name = prefix + Long.toHexString(new java.security.SecureRandom().nextLong() & Long.MAX_VALUE);
        int fd = privateDir(name, true);
        return new Exchange(fd, "/tmp/" + name, name);
    }

    /** A directory made for one exchange: removed with everything in it on close. */
    final class Exchange implements AutoCloseable {
        final int fd;
        final String pathInTarget;
        private final String name;

        Exchange(int fd, String pathInTarget, String name) {
            this.fd = fd;
            this.pathInTarget = pathInTarget;
            this.name = name;
        }

        /** NAME in this directory, as this command reaches it. */
        Path here(String entry) {
            return fd(fd).resolve(entry);
        }

        /** lchown of an entry to the target's user. */
        void own(String entry) throws IOException {
            InTarget.this.own(here(entry));
        }

        @Override
        public void close() {
            try (java.nio.file.DirectoryStream<Path> d = Files.newDirectoryStream(fd(fd))) {
                for (Path p : d) {
                    Files.deleteIfExists(fd(fd).resolve(p.getFileName()));
                }
            } catch (IOException e) {
                // below
            }
            try {
                Files.deleteIfExists(fd(tmp()).resolve(name));
            } catch (IOException e) {
                // left behind (e.g. no CAP_FOWNER for another user's directory in a sticky /tmp)
            }
            InRoot.close(fd);
        }
    }

    /**
     * Removes the agent jar copies of user {@code euid} in the target's /tmp that no process holds open any more
     * ({@code openInNamespace}: ".mptcp-agent.UID/FILE" names held open), and their directory when empty.
     * @return the paths removed, as the target saw them
     */
    java.util.List<String> removeUnusedCopies(java.util.Set<String> openInNamespace, int euid) {
        java.util.List<String> removed = new java.util.ArrayList<>();
        String dirName = ".mptcp-agent." + euid;
        int dir;
        try {
            dir = openInTmp(dirName);
        } catch (IOException e) {
            return removed;
        }
        if (dir < 0) {
            return removed;
        }
        try (java.nio.file.DirectoryStream<Path> d = Files.newDirectoryStream(fd(dir))) {
            for (Path p : d) {
                String inTarget = "/tmp/" + dirName + "/" + p.getFileName();
                if (p.getFileName().toString().startsWith("mptcp-agent-")
                        && !openInNamespace.contains(dirName + "/" + p.getFileName())) {
                    Files.deleteIfExists(fd(dir).resolve(p.getFileName()));
                    removed.add(inTarget);
                }
            }
        } catch (IOException e) {
            // what could not be removed stays
        }
        try (java.nio.file.DirectoryStream<Path> d = Files.newDirectoryStream(fd(dir))) {
            if (!d.iterator().hasNext()) {
                Files.deleteIfExists(fd(tmp()).resolve(dirName));
            }
        } catch (IOException e) {
            // stays
        } finally {
            InRoot.close(dir);
        }
        return removed;
    }

    @Override
    public void close() {
        if (tmp >= 0) {
            InRoot.close(tmp);
            tmp = -1;
        }
        InRoot.close(root);
    }
}
