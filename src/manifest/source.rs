//! Reading manifest inputs: the only file and stdin I/O of the manifest layer. Everything
//! after [`read_inputs`] works on [`SourceFile`] values.

use std::io::Read;
use std::path::{Path, PathBuf};

/// One manifest input, read fully into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as given or found (`-` for stdin), used in every diagnostic.
    pub name: String,
    pub text: String,
    /// Byte offset of the start of each line, for quick line lookup in diagnostics.
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// Decodes bytes as [`read_inputs`] does (UTF-8, BOM removed), for inputs that do not come
    /// from files (tests, fuzzing, other commands).
    pub fn try_from_bytes(name: impl Into<String>, bytes: Vec<u8>) -> Result<Self, InputError> {
        decode(name.into(), bytes)
    }

    /// The text of 1-based line `line`, without its line break.
    pub fn line(&self, line: usize) -> Option<&str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |next| next.saturating_sub(1));
        let text = self.text.get(start..end)?;
        Some(text.strip_suffix('\r').unwrap_or(text))
    }
}

/// The largest manifest file accepted. Real manifest sets are kilobytes; anything this big is
/// a mistake (a log, a dump, a binary), and refusing it keeps memory and time bounded.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The largest number of files one run reads (a `-f` pointed at `/` must fail quickly).
pub const MAX_FILES: usize = 10_000;

/// Why inputs could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The cause is left to the error chain (`caused by: …`), so it is printed once.
    #[error("read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is larger than {} MiB ({MAX_FILE_BYTES} bytes), the limit for one manifest file",
        MAX_FILE_BYTES / (1024 * 1024)
    )]
    TooLarge { path: String },
    #[error("{path} is not UTF-8 text (invalid byte at line {line}, column {column})")]
    NotUtf8 {
        path: String,
        line: usize,
        column: usize,
    },
    #[error(
        "{path} contains no foundryctl manifests{}\n\
         hint: pass the file or directory that holds the manifests (only .yaml and .yml files \
         with `apiVersion: foundryctl/…` documents are read; -v names the files skipped)",
        skipped_note(*skipped)
    )]
    EmptyDirectory { path: String, skipped: usize },
    #[error("more than {MAX_FILES} manifest files found under the given paths")]
    TooManyFiles,
    #[error("no manifests given")]
    NoInputs,
    #[error("`-f -` is given more than once; stdin can be read only once")]
    StdinTwice,
}

impl InputError {
    /// Whether the input was read but its content is unacceptable: such errors mean "invalid
    /// manifests" (exit 3) rather than an I/O failure (exit 1).
    pub fn is_content_error(&self) -> bool {
        matches!(
            self,
            InputError::TooLarge { .. } | InputError::NotUtf8 { .. }
        )
    }

    /// The file the error concerns, for a diagnostic.
    pub fn path(&self) -> &str {
        match self {
            InputError::Io { path, .. }
            | InputError::TooLarge { path, .. }
            | InputError::NotUtf8 { path, .. }
            | InputError::EmptyDirectory { path, .. } => path,
            InputError::TooManyFiles | InputError::NoInputs | InputError::StdinTwice => "",
        }
    }
}

fn skipped_note(skipped: usize) -> String {
    match skipped {
        0 => String::new(),
        1 => " (1 YAML file skipped)".to_owned(),
        n => format!(" ({n} YAML files skipped)"),
    }
}

/// A file a directory walk passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// A FIFO, socket or device named like a manifest: reading it could block forever.
    NotRegular(&'static str),
    /// YAML with no `apiVersion: foundryctl/…` document (a workflow, a compose file…).
    NotManifest,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.reason {
            SkipReason::NotRegular(kind) => {
                write!(f, "skipped {}: {kind}, not a regular file", self.path)
            }
            SkipReason::NotManifest => write!(
                f,
                "skipped {}: no `apiVersion: foundryctl/…` document in it",
                self.path
            ),
        }
    }
}

/// Reads every manifest named by `paths`: files as given, directories recursively (`*.yaml`
/// and `*.yml`, sorted by path so the result never depends on directory order), `-` as
/// stdin. Each file is refused above [`MAX_FILE_BYTES`] before it is read. What a directory
/// walk passes over is dropped; [`read_inputs_skipping`] says what.
pub fn read_inputs(paths: &[PathBuf]) -> Result<Vec<SourceFile>, InputError> {
    read_inputs_skipping(paths).map(|(files, _)| files)
}

/// [`read_inputs`], also returning what directory walks skipped: hidden directories (`.git`,
/// `.github`, `.foundryctl`) are not entered and not listed; FIFOs and other non-regular files
/// named `*.yaml` are not opened (opening a FIFO blocks); YAML files with no foundryctl
/// document are read but not returned. A file named explicitly is always read and checked.
pub fn read_inputs_skipping(
    paths: &[PathBuf],
) -> Result<(Vec<SourceFile>, Vec<Skipped>), InputError> {
    if paths.is_empty() {
        return Err(InputError::NoInputs);
    }
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(InputError::StdinTwice);
    }
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(read_stdin()?);
            continue;
        }
        let display = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|source| InputError::Io {
            path: display.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            let skipped_before = skipped.len();
            collect_dir(path, &mut found, &mut skipped)?;
            found.sort();
            let mut read = 0usize;
            for file in found {
                let file = read_file(&file)?;
                if !looks_like_manifest(&file.text) {
                    skipped.push(Skipped {
                        path: file.name,
                        reason: SkipReason::NotManifest,
                    });
                    continue;
                }
                files.push(file);
                read += 1;
                if files.len() > MAX_FILES {
                    return Err(InputError::TooManyFiles);
                }
            }
            if read == 0 {
                return Err(InputError::EmptyDirectory {
                    path: display,
                    skipped: skipped.len() - skipped_before,
                });
            }
        } else {
            files.push(read_file(path)?);
        }
    }
    Ok((files, skipped))
}

/// Reads the list files of `for_each: {file: …}`: each (manifest name, path as written) is read
/// relative to the manifest's directory, bounded like a manifest. Failures are kept as text,
/// for validation to report at the `for_each` that names the file.
pub fn read_list_files(refs: &[(String, String)]) -> super::validate::ForEachLists {
    let mut lists = super::validate::ForEachLists::default();
    for (manifest, file) in refs {
        let base = match manifest.as_str() {
            "-" => Path::new(""),
            name => Path::new(name).parent().unwrap_or(Path::new("")),
        };
        let path = base.join(file);
        let read = confined(base, Path::new(file))
            .and_then(|()| std::fs::metadata(&path).map_err(|e| e.to_string()))
            .and_then(|meta| {
                if meta.is_file() {
                    let file = std::fs::File::open(&path).map_err(|e| e.to_string())?;
                    Ok((file, meta.len()))
                } else {
                    Err(format!("{} is not a regular file", path.display()))
                }
            })
            .and_then(|(f, size)| {
                read_bounded(path.display().to_string(), f, Some(size))
                    .map(|source| source.text)
                    .map_err(|e| e.to_string())
            });
        lists.0.insert((manifest.clone(), file.clone()), read);
    }
    lists
}

/// Refuses a list file outside the manifest's own directory tree: a manifest under review (a
/// pull request's) must not be able to read `/etc/passwd` or a runner's secrets into the
/// plan and its comment. Checked on the path as written (absolute, `..`) and, when it exists,
/// on where it really is (a symbolic link out of the tree).
fn confined(base: &Path, file: &Path) -> Result<(), String> {
    use std::path::Component;
    let outside = || {
        format!(
            "{} is outside the manifest's directory; list files must be in it or below it",
            file.display()
        )
    };
    if file
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(outside());
    }
    let base = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    match (base.canonicalize(), base.join(file).canonicalize()) {
        (Ok(base), Ok(real)) if !real.starts_with(&base) => Err(outside()),
        _ => Ok(()),
    }
}

/// Whether a file found in a directory walk is meant for foundryctl: a line `apiVersion:
/// foundryctl/…`, or a `kind:` foundryctl manages (so a document that lost its `apiVersion`
/// is still checked and reported). Anything else in the tree (CI workflows, compose files,
/// other tools' manifests) is not ours to judge.
pub fn looks_like_manifest(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_end();
        let value = |key: &str| {
            line.strip_prefix(key)
                .map(|v| v.trim_start().trim_matches(['"', '\'']))
        };
        value("apiVersion:").is_some_and(|v| v.starts_with("foundryctl/"))
            || value("kind:").is_some_and(|v| matches!(v, "MemoryStore" | "Agent"))
    })
}

fn collect_dir(
    dir: &Path,
    found: &mut Vec<PathBuf>,
    skipped: &mut Vec<Skipped>,
) -> Result<(), InputError> {
    let io = |source| InputError::Io {
        path: dir.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let mut kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            if !entry.file_name().to_string_lossy().starts_with('.') {
                collect_dir(&path, found, skipped)?;
            }
        } else if is_manifest_name(&path) {
            if kind.is_symlink() {
                // What the link points at decides; a dangling link fails when read, as before.
                if let Ok(meta) = std::fs::metadata(&path) {
                    kind = meta.file_type();
                }
            }
            if !kind.is_file() && !kind.is_symlink() {
                skipped.push(Skipped {
                    path: path.display().to_string(),
                    reason: SkipReason::NotRegular(file_kind(kind)),
                });
                continue;
            }
            found.push(path);
            if found.len() > MAX_FILES {
                return Err(InputError::TooManyFiles);
            }
        }
    }
    Ok(())
}

/// What a non-regular file is, in words.
fn file_kind(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        return "a directory";
    }
    "a special file"
}

fn is_manifest_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Checks that every path given with `-f` is there (`-` is standard input), without reading
/// anything: a command that would create the local project checks first, so that a mistyped
/// path fails as reading it would, before a project is made for nothing.
pub fn check_given(paths: &[PathBuf]) -> Result<(), InputError> {
    for path in paths.iter().filter(|p| p.as_os_str() != "-") {
        std::fs::metadata(path).map_err(|source| InputError::Io {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<SourceFile, InputError> {
    let display = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| InputError::Io {
        path: display.clone(),
        source,
    })?;
    // The size a regular file has now lets the text be read in one call rather than in
    // doubling steps (ten reads for a 4 KiB file); a file that grows meanwhile is still read
    // to its end, and the limit below still holds.
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    read_bounded(display, file, size)
}

fn read_stdin() -> Result<SourceFile, InputError> {
    read_bounded("-".to_owned(), std::io::stdin().lock(), None)
}

/// Reads at most one byte past the limit, so an endless or huge stream costs bounded memory.
/// `size` is what the file's metadata says it holds, when it says.
fn read_bounded(
    name: String,
    reader: impl Read,
    size: Option<u64>,
) -> Result<SourceFile, InputError> {
    let capacity = size.map_or(0, |s| s.min(MAX_FILE_BYTES + 1));
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    reader
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| InputError::Io {
            path: name.clone(),
            source,
        })?;
    // Only the first byte past the limit was read: the true size is unknown, and beside
    // the point.
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_FILE_BYTES {
        return Err(InputError::TooLarge { path: name });
    }
    // The buffer grew by doubling; the text is held until validation ends, and a project of
    // hundreds of files would otherwise keep up to twice its size.
    bytes.shrink_to_fit();
    decode(name, bytes)
}

/// UTF-8 text, with a leading byte-order mark removed; anything else is refused with the
/// position of the first bad byte.
pub fn decode(name: String, bytes: Vec<u8>) -> Result<SourceFile, InputError> {
    match String::from_utf8(bytes) {
        Ok(text) => {
            let text = text
                .strip_prefix('\u{feff}')
                .map(str::to_owned)
                .unwrap_or(text);
            Ok(SourceFile::new(name, text))
        }
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let bytes = error.as_bytes();
            let before = String::from_utf8_lossy(bytes.get(..valid).unwrap_or_default());
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err(InputError::NotUtf8 {
                path: name,
                line,
                column,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn list_files_stay_inside_the_manifest_directory() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("manifests");
        std::fs::create_dir_all(base.join("lists")).unwrap();
        std::fs::write(base.join("lists/a.txt"), "a\n").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "s3cret\n").unwrap();
        assert_eq!(
            super::confined(&base, std::path::Path::new("lists/a.txt")),
            Ok(())
        );
        assert_eq!(
            super::confined(&base, std::path::Path::new("./lists/a.txt")),
            Ok(())
        );
        for bad in ["../secret.txt", "lists/../../secret.txt", "/etc/passwd"] {
            let refused = super::confined(&base, std::path::Path::new(bad)).unwrap_err();
            assert!(
                refused.contains("outside the manifest's directory"),
                "{bad}: {refused}"
            );
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.txt"), base.join("link.txt"))
                .unwrap();
            assert!(super::confined(&base, std::path::Path::new("link.txt")).is_err());
        }
    }

    use super::*;

    /// A manifest's text is held until validation ends: it must cost its length, not the
    /// doubled capacity the read grew to.
    #[test]
    fn a_read_manifest_holds_no_spare_capacity() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, "# padding\n".repeat(500)).unwrap();
        let files = read_inputs(std::slice::from_ref(&path)).unwrap();
        assert_eq!(files[0].text.len(), 5000);
        assert_eq!(files[0].text.capacity(), files[0].text.len());
    }

    #[test]
    fn lines_are_found_without_breaks() {
        let f = SourceFile::new("a", "one\r\ntwo\nthree");
        assert_eq!(f.line(1), Some("one"));
        assert_eq!(f.line(2), Some("two"));
        assert_eq!(f.line(3), Some("three"));
        assert_eq!(f.line(4), None);
        assert_eq!(f.line(0), None);
    }

    #[test]
    fn invalid_utf8_is_located() {
        let err = decode("x".into(), b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        assert!(matches!(
            err,
            InputError::NotUtf8 {
                line: 2,
                column: 4,
                ..
            }
        ));
    }

    #[test]
    fn oversized_streams_are_refused_after_the_limit() {
        let endless = std::io::repeat(b'a');
        let err = read_bounded("-".into(), endless, None).unwrap_err();
        assert!(matches!(err, InputError::TooLarge { .. }));
        // It says the limit, not how much of the stream happened to be read.
        assert_eq!(
            err.to_string(),
            "- is larger than 8 MiB (8388608 bytes), the limit for one manifest file"
        );
    }

    #[test]
    fn stdin_twice_is_refused_before_anything_is_read() {
        let e = read_inputs(&[PathBuf::from("-"), PathBuf::from("-")]).unwrap_err();
        assert!(matches!(e, InputError::StdinTwice), "{e}");
        assert!(!e.is_content_error());
    }

    const M: &str = "apiVersion: foundryctl/v1\n";

    #[test]
    fn directories_are_read_recursively_in_sorted_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.yaml"), format!("{M}# b")).unwrap();
        std::fs::write(dir.path().join("a.yml"), format!("{M}# a")).unwrap();
        std::fs::write(dir.path().join("sub/c.yaml"), format!("{M}# c")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let files = read_inputs(&[dir.path().to_path_buf()]).unwrap();
        let texts: Vec<_> = files.iter().map(|f| f.text.replace(M, "")).collect();
        assert_eq!(texts, ["# a", "# b", "# c"]);
    }

    #[test]
    fn a_walk_skips_hidden_directories_and_other_tools_yaml_but_not_named_files() {
        let dir = tempfile::tempdir().unwrap();
        for hidden in [".git", ".github/workflows", ".foundryctl"] {
            std::fs::create_dir_all(dir.path().join(hidden)).unwrap();
            std::fs::write(dir.path().join(hidden).join("x.yaml"), M).unwrap();
        }
        std::fs::write(dir.path().join("store.yaml"), M).unwrap();
        std::fs::write(dir.path().join("lost.yaml"), "kind: Agent\n").unwrap();
        let compose = dir.path().join("compose.yaml");
        std::fs::write(&compose, "services: {}\n").unwrap();
        let (files, skipped) = read_inputs_skipping(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| Path::new(&f.name).file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["lost.yaml", "store.yaml"]);
        assert_eq!(
            skipped,
            [Skipped {
                path: compose.display().to_string(),
                reason: SkipReason::NotManifest
            }]
        );
        // Named explicitly, it is read (and validation says what is wrong with it).
        let files = read_inputs(&[compose]).unwrap();
        assert_eq!(files[0].text, "services: {}\n");
    }

    #[test]
    fn a_directory_of_other_tools_yaml_is_an_error_that_counts_the_skipped_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ci.yaml"), "on: push\n").unwrap();
        let e = read_inputs(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(
            matches!(e, InputError::EmptyDirectory { skipped: 1, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("1 YAML file skipped"), "{e}");
    }

    #[test]
    fn manifests_are_recognised_by_api_version_or_kind() {
        assert!(looks_like_manifest("# x\napiVersion: \"foundryctl/v2\"\n"));
        assert!(looks_like_manifest("kind: MemoryStore\n"));
        assert!(!looks_like_manifest(
            "apiVersion: apps/v1\nkind: Deployment\n"
        ));
        assert!(!looks_like_manifest("  apiVersion: foundryctl/v1\n"));
    }
}
