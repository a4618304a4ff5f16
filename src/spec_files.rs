//! The files a spec may name (`fromFile`, `htpasswdFile`), and the one way
//! to read them.
//!
//! A spec often comes from a pull request, so a path in it is untrusted: it
//! is read only beneath the folder of the file that names it (the working
//! directory for stdin and `--set`), or beneath what the person running mlk
//! granted with `--allow-file`. The kernel resolves the path beneath that
//! folder (`openat2` with `RESOLVE_BENEATH`), so neither `..` nor a symlink
//! can leave it. Only regular files are read, with a bound, so a FIFO or a
//! device can neither stall a render nor fill its memory. Errors name the
//! path, never a byte of what was read.

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// The most a secret or htpasswd file may hold.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The most a spec or profile file may hold: ten thousand served models
/// take about 3 MiB.
pub const MAX_SPEC_BYTES: u64 = 64 << 20;

/// The most `mlk validate` reads of one file.
pub const MAX_STREAM_BYTES: u64 = 1 << 30;

/// Reads a manifest stream the person running mlk named: followed where
/// it points, but only a regular file, and only up to the cap, so a FIFO
/// or a device named by mistake (or by a symlink in a repository) fails
/// at once.
pub fn read_stream_file(path: &Path) -> Result<String, String> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let fd = rustix::fs::open(path, flags, Mode::empty()).map_err(reason)?;
    read_bounded(fd, MAX_STREAM_BYTES)
}

/// Reads a spec or profile file the person running mlk named. It comes
/// from a repository, so it may be a symlink: one that stays in its
/// folder is followed, one that leaves it is refused, as is anything but a
/// regular file.
pub fn read_spec_file(path: &Path) -> Result<String, String> {
    let name = path.file_name().ok_or("is not a file name")?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    read_beneath(folder, Path::new(name))
}

/// Reads `rel`, a path inside a folder the person running mlk named
/// (one mlk wrote, from a checkout): every part of it, subfolders too,
/// must stay beneath `root`, as `read_spec_file` holds a file to its own
/// folder.
pub fn read_beneath(root: &Path, rel: &Path) -> Result<String, String> {
    let dir = rustix::fs::open(
        root,
        OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::PATH,
        Mode::empty(),
    )
    .map_err(|e| format!("its folder: {}", reason(e)))?;
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let fd = open_beneath(&dir, rel, flags)?;
    read_bounded(fd, MAX_SPEC_BYTES)
}

/// Where files named in a spec may be read from.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    roots: Vec<Root>,
}

#[derive(Debug, Clone)]
struct Root {
    /// Absolute, as written: the form anchored spec paths take.
    path: PathBuf,
    granted: bool,
}

impl Grants {
    /// The folder of a layer (a spec or profile file, or the working
    /// directory): the files it names may be read beneath it.
    pub fn add_layer_folder(&mut self, dir: &Path) {
        // `absolute` keeps a trailing `.`; components drop it.
        let dir: PathBuf = absolute(dir).components().collect();
        if !self.roots.iter().any(|r| r.path == dir) {
            self.roots.push(Root {
                path: dir,
                granted: false,
            });
        }
    }

    /// `--allow-file PATH`: a file, or a folder to read beneath.
    pub fn allow(&mut self, path: &Path) -> Result<(), String> {
        std::fs::metadata(path)
            .map_err(|e| format!("--allow-file {}: {}", path.display(), os_reason(&e)))?;
        self.roots.push(Root {
            path: absolute(path),
            granted: true,
        });
        Ok(())
    }

    /// Reads a file a spec names, as text.
    pub fn read(&self, path: &Path) -> Result<String, String> {
        let shown = path.display();
        let fd = self.open(path).map_err(|why| format!("{shown}: {why}"))?;
        read_bounded(fd, MAX_FILE_BYTES).map_err(|why| format!("{shown}: {why}"))
    }

    fn open(&self, path: &Path) -> Result<OwnedFd, String> {
        let path = absolute(path);
        let root = self
            .roots
            .iter()
            .filter(|r| path.starts_with(&r.path))
            .max_by_key(|r| (r.path.components().count(), r.granted))
            .ok_or_else(|| self.outside())?;
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        let rest = path.strip_prefix(&root.path).expect("matched as a prefix");
        if rest.as_os_str().is_empty() && root.granted {
            // A granted file: the person running mlk named it exactly.
            return rustix::fs::open(&root.path, flags, Mode::empty()).map_err(reason);
        }
        let dir = rustix::fs::open(
            &root.path,
            OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::PATH,
            Mode::empty(),
        )
        .map_err(|e| format!("its folder {}: {}", root.path.display(), reason(e)))?;
        open_beneath(&dir, rest, flags)
    }

    fn outside(&self) -> String {
        let folders: Vec<String> = self
            .roots
            .iter()
            .map(|r| r.path.display().to_string())
            .collect();
        format!(
            "outside the folders mlk may read ({}). A spec may name only files beneath its own \
             folder; to read this one, run mlk with --allow-file and its path",
            folders.join(", ")
        )
    }
}

/// `RESOLVE_BENEATH` refuses `..` and symlinks that leave `dir`, and
/// absolute symlinks; kernels without openat2 get a walk that follows no
/// symlink at all.
fn open_beneath(dir: &OwnedFd, rest: &Path, flags: OFlags) -> Result<OwnedFd, String> {
    let rest = if rest.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rest
    };
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
    match rustix::fs::openat2(dir, rest, flags, Mode::empty(), resolve) {
        Err(Errno::NOSYS) => walk_beneath(dir, rest, flags),
        other => other.map_err(reason),
    }
}

fn walk_beneath(dir: &OwnedFd, rest: &Path, flags: OFlags) -> Result<OwnedFd, String> {
    let parts: Vec<Component> = rest.components().collect();
    let mut current: Option<OwnedFd> = None;
    for (i, part) in parts.iter().enumerate() {
        let Component::Normal(name) = part else {
            return Err(reason(Errno::XDEV));
        };
        let last = i + 1 == parts.len();
        let how = if last {
            flags | OFlags::NOFOLLOW
        } else {
            OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::PATH
        };
        let at = current.as_ref().unwrap_or(dir);
        let next = rustix::fs::openat(at, *name, how, Mode::empty()).map_err(reason)?;
        current = Some(next);
    }
    current.ok_or_else(|| "is a folder".to_owned())
}

/// Regular files only, and never more than the cap into memory.
fn read_bounded(fd: OwnedFd, cap: u64) -> Result<String, String> {
    let stat = rustix::fs::fstat(&fd).map_err(reason)?;
    let kind = FileType::from_raw_mode(stat.st_mode);
    if kind != FileType::RegularFile {
        return Err(format!(
            "is not a regular file ({}); name a file",
            kind_name(kind)
        ));
    }
    let mut bytes = Vec::new();
    File::from(fd)
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {}", os_reason(&e)))?;
    if bytes.len() as u64 > cap {
        return Err(format!("is larger than {} MiB", cap >> 20));
    }
    String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_owned())
}

fn kind_name(kind: FileType) -> &'static str {
    match kind {
        FileType::Directory => "a folder",
        FileType::Fifo => "a FIFO",
        FileType::CharacterDevice | FileType::BlockDevice => "a device",
        FileType::Socket => "a socket",
        FileType::Symlink => "a symlink",
        _ => "not a file",
    }
}

fn reason(e: Errno) -> String {
    match e {
        Errno::XDEV => "leaves the folder it must stay beneath (through `..`, an absolute path \
                        or a symlink); a spec may name only files beneath its own folder"
            .to_owned(),
        Errno::LOOP => "is a symlink mlk does not follow here".to_owned(),
        Errno::NOENT => "does not exist".to_owned(),
        Errno::ACCESS | Errno::PERM => "permission denied".to_owned(),
        Errno::NOTDIR => "a part of the path is not a folder".to_owned(),
        Errno::ISDIR => "is a folder".to_owned(),
        other => std::io::Error::from(other).to_string(),
    }
}

fn os_reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => reason(Errno::from_raw_os_error(code)),
        None => e.to_string(),
    }
}

/// The working directory for an empty path (a spec in it, or stdin).
fn absolute(path: &Path) -> PathBuf {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(dir: &Path) -> Grants {
        let mut g = Grants::default();
        g.add_layer_folder(dir);
        g
    }

    #[test]
    fn reads_beneath_and_refuses_escapes() {
        let outer = tempfile::tempdir().unwrap();
        let spec = outer.path().join("spec");
        std::fs::create_dir(&spec).unwrap();
        std::fs::write(spec.join("pw"), "inside\n").unwrap();
        std::fs::write(outer.path().join("secret"), "outside").unwrap();
        std::os::unix::fs::symlink("../secret", spec.join("link")).unwrap();
        let g = grants(&spec);
        assert_eq!(g.read(&spec.join("pw")).unwrap(), "inside\n");
        for escape in [spec.join("../secret"), spec.join("link")] {
            let e = g.read(&escape).unwrap_err();
            assert!(e.contains("leaves the folder"), "{e}");
            assert!(!e.contains("outside\n") && !e.contains(": outside"), "{e}");
        }
        let e = g.read(Path::new("/etc/hostname")).unwrap_err();
        assert!(e.contains("--allow-file"), "{e}");
    }

    #[test]
    fn a_grant_opens_a_file_or_folder_the_spec_could_not() {
        let outer = tempfile::tempdir().unwrap();
        std::fs::write(outer.path().join("granted"), "ok").unwrap();
        let mut g = grants(&outer.path().join("spec"));
        let file = outer.path().join("granted");
        assert!(g.read(&file).is_err());
        g.allow(&file).unwrap();
        assert_eq!(g.read(&file).unwrap(), "ok");
        assert!(g.allow(&outer.path().join("missing")).is_err());
    }

    #[test]
    fn the_walk_follows_no_symlink() {
        let outer = tempfile::tempdir().unwrap();
        std::fs::create_dir(outer.path().join("d")).unwrap();
        std::fs::write(outer.path().join("d/f"), "x").unwrap();
        std::os::unix::fs::symlink("d", outer.path().join("l")).unwrap();
        let dir = rustix::fs::open(outer.path(), OFlags::DIRECTORY, Mode::empty()).unwrap();
        let flags = OFlags::RDONLY | OFlags::NONBLOCK;
        assert!(walk_beneath(&dir, Path::new("d/f"), flags).is_ok());
        assert!(walk_beneath(&dir, Path::new("l/f"), flags).is_err());
        assert!(walk_beneath(&dir, Path::new("../x"), flags).is_err());
    }
}
