//! Where upload files live: one folder per node, swept at start-up of what a killed run
//! left, and the temporary files themselves.

use std::fs::File;
use std::path::PathBuf;
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How every upload temp file's name starts; the start-up sweep removes only these.
const TEMP_PREFIX: &str = "cinder-upload-";

/// The process's upload folder, once [`use_temp_dir`] has set it.
static TEMP_DIR: OnceLock<PathBuf> = OnceLock::new();

/// The upload folder of the node named `node`: `<system temp>/cinder-uploads/<node>`,
/// with every character of the name outside `[A-Za-z0-9._-]` as `_`.
pub fn node_temp_dir(node: &str) -> PathBuf {
    let name: String = node
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
            // A name of dots alone would climb out of the folder.
            '.' if !node.chars().all(|c| c == '.') => c,
            _ => '_',
        })
        .collect();
    let name = if name.is_empty() {
        "_".to_owned()
    } else {
        name
    };
    std::env::temp_dir().join("cinder-uploads").join(name)
}

/// Makes `dir` the folder this process writes upload files to, creating it (readable by
/// this user only), and removes the upload files a previous run left there: a node
/// killed with `SIGKILL` deletes none of its own. Returns how many it removed.
///
/// Call it once at start-up, before the first session, with a folder no other live node
/// uses ([`node_temp_dir`] of a name unique in the cluster). Later calls change nothing
/// and remove nothing; with another folder they fail.
pub fn use_temp_dir(dir: impl Into<PathBuf>) -> std::io::Result<usize> {
    let dir = dir.into();
    if let Some(current) = TEMP_DIR.get() {
        return if *current == dir {
            Ok(0)
        } else {
            Err(std::io::Error::other(format!(
                "the upload folder is already {}",
                current.display()
            )))
        };
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir)?;
    // A link planted in a shared temp folder would point the sweep elsewhere.
    if !std::fs::symlink_metadata(&dir)?.is_dir() {
        return Err(std::io::Error::other(format!(
            "{} is not a folder",
            dir.display()
        )));
    }
    let mut removed = 0;
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        let ours = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(TEMP_PREFIX));
        if ours && entry.file_type()?.is_file() && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    if TEMP_DIR.set(dir.clone()).is_err() && TEMP_DIR.get() != Some(&dir) {
        return Err(std::io::Error::other("the upload folder was set meanwhile"));
    }
    if removed > 0 {
        tracing::info!(removed, dir = %dir.display(), "removed upload files left by a previous run");
    }
    Ok(removed)
}

/// A temporary file, deleted when dropped.
#[derive(Debug)]
pub(super) struct TempPath(pub(super) PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Creates a new, empty temporary file in the process's upload folder.
pub(super) fn create() -> std::io::Result<(TempPath, File)> {
    let dir = TEMP_DIR.get().cloned().unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!(
        "{TEMP_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>())
    ));
    let file = File::options().write(true).create_new(true).open(&path)?;
    Ok((TempPath(path), file))
}
