//! [`BlobStore`] on a local file system.
//!
//! ```text
//! <root>/tmp/<random>.tmp                  writes in progress (removed at start-up)
//! <root>/uploads/<upload id>/<n>.part      acknowledged parts
//! <root>/records/<first 2 hex of eh>/<eh>  visible ciphertexts (64 hex digits)
//! ```
//!
//! Every write goes to `tmp/`, is fsynced, renamed into place, and the
//! destination directory is fsynced: after a crash a file under `uploads/` or
//! `records/` is complete, and a rename that was acknowledged survives.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{BlobStore, Eh, PartWriter, RecordReader, StoreError, UploadId};

/// Copy buffer for assembling a record: the only record bytes held in memory.
const ASSEMBLY_BUFFER: usize = 1 << 20;
/// Write buffer of a part being received.
const PART_WRITE_BUFFER: usize = 1 << 20;
const PART_SUFFIX: &str = ".part";
const TEMP_SUFFIX: &str = ".tmp";

/// Ciphertext files under one root directory.
#[derive(Debug)]
pub struct FsBlobStore {
    root: PathBuf,
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn random_name() -> Result<String, StoreError> {
    let mut b = [0u8; 12];
    getrandom::getrandom(&mut b).map_err(|_| io::Error::other("no randomness"))?;
    Ok(format!("{}{TEMP_SUFFIX}", hex::encode(b)))
}

fn ignore_missing(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Creates `dir` (and parents) if needed; fsyncs its parent when it was created.
fn ensure_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    if let Some(parent) = dir.parent() {
        fsync_dir(parent)?;
    }
    Ok(())
}

/// A temporary file that is removed unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    fn create(dir: &Path) -> Result<(Self, File), StoreError> {
        let path = dir.join(random_name()?);
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok((TempFile { path, armed: true }, file))
    }

    /// Renames into `dest` and fsyncs `dest`'s directory.
    fn persist(mut self, dest: &Path) -> Result<(), StoreError> {
        fs::rename(&self.path, dest)?;
        self.armed = false;
        if let Some(dir) = dest.parent() {
            fsync_dir(dir)?;
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

struct FsPartWriter {
    temp: TempFile,
    file: BufWriter<File>,
    dest: PathBuf,
}

impl PartWriter for FsPartWriter {
    fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        self.file.write_all(data)?;
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let FsPartWriter { temp, file, dest } = *self;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        temp.persist(&dest)
    }
}

impl FsBlobStore {
    /// Opens (creating the directories) a store rooted at `root`.
    ///
    /// # Errors
    /// I/O failures.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let store = FsBlobStore {
            root: root.to_path_buf(),
        };
        for dir in [store.tmp_dir(), store.uploads_dir(), store.records_dir()] {
            ensure_dir(&dir)?;
        }
        Ok(store)
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn uploads_dir(&self) -> PathBuf {
        self.root.join("uploads")
    }

    fn records_dir(&self) -> PathBuf {
        self.root.join("records")
    }

    fn upload_dir(&self, id: &UploadId) -> PathBuf {
        self.uploads_dir().join(id.to_hex())
    }

    fn part_path(&self, id: &UploadId, n: u64) -> PathBuf {
        self.upload_dir(id).join(format!("{n}{PART_SUFFIX}"))
    }

    fn record_path(&self, eh: &Eh) -> PathBuf {
        let name = hex::encode(eh);
        self.records_dir().join(&name[..2]).join(name)
    }

    /// Copies parts `0..parts` into `out`, hashing; returns (bytes, hash).
    fn concatenate(
        &self,
        upload: &UploadId,
        parts: u64,
        size: u64,
        out: &mut File,
    ) -> Result<(u64, [u8; 32]), StoreError> {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; ASSEMBLY_BUFFER];
        let mut total: u64 = 0;
        for n in 0..parts {
            let mut part = match File::open(self.part_path(upload, n)) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(StoreError::MissingPart(n))
                }
                Err(e) => return Err(e.into()),
            };
            loop {
                let read = match part.read(&mut buf) {
                    Ok(0) => break,
                    Ok(read) => read,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e.into()),
                };
                let chunk = buf.get(..read).unwrap_or_default();
                total = total.saturating_add(read as u64);
                if total > size {
                    return Err(StoreError::SizeMismatch);
                }
                hasher.update(chunk);
                out.write_all(chunk)?;
            }
        }
        Ok((total, hasher.finalize().into()))
    }
}

fn parse_eh(name: &str) -> Option<Eh> {
    let mut eh = [0u8; 32];
    (name.len() == 64).then_some(())?;
    hex::decode_to_slice(name, &mut eh).ok()?;
    Some(eh)
}

fn read_dir_names(dir: &Path) -> io::Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut names = Vec::new();
    for entry in entries {
        if let Ok(name) = entry?.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

impl BlobStore for FsBlobStore {
    fn part_writer(&self, upload: &UploadId, n: u64) -> Result<Box<dyn PartWriter>, StoreError> {
        ensure_dir(&self.upload_dir(upload))?;
        let (temp, file) = TempFile::create(&self.tmp_dir())?;
        Ok(Box::new(FsPartWriter {
            temp,
            file: BufWriter::with_capacity(PART_WRITE_BUFFER, file),
            dest: self.part_path(upload, n),
        }))
    }

    fn list_parts(&self, upload: &UploadId) -> Result<Vec<u64>, StoreError> {
        let mut parts: Vec<u64> = read_dir_names(&self.upload_dir(upload))?
            .iter()
            .filter_map(|name| name.strip_suffix(PART_SUFFIX)?.parse().ok())
            .collect();
        parts.sort_unstable();
        Ok(parts)
    }

    fn assemble(
        &self,
        upload: &UploadId,
        parts: u64,
        size: u64,
        eh: &Eh,
    ) -> Result<(), StoreError> {
        let (temp, mut file) = TempFile::create(&self.tmp_dir())?;
        let (total, hash) = self.concatenate(upload, parts, size, &mut file)?;
        if total != size {
            return Err(StoreError::SizeMismatch);
        }
        if hash != *eh {
            return Err(StoreError::HashMismatch);
        }
        file.sync_all()?;
        drop(file);
        let dest = self.record_path(eh);
        if let Some(dir) = dest.parent() {
            ensure_dir(dir)?;
        }
        temp.persist(&dest)
    }

    fn open_record(&self, eh: &Eh) -> Result<(Box<dyn RecordReader>, u64), StoreError> {
        let file = match File::open(self.record_path(eh)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let len = file.metadata()?.len();
        Ok((Box::new(file), len))
    }

    fn delete_record(&self, eh: &Eh) -> Result<(), StoreError> {
        let path = self.record_path(eh);
        ignore_missing(fs::remove_file(&path))?;
        if let Some(dir) = path.parent() {
            ignore_missing(fsync_dir(dir))?;
        }
        Ok(())
    }

    fn delete_upload(&self, upload: &UploadId) -> Result<(), StoreError> {
        ignore_missing(fs::remove_dir_all(self.upload_dir(upload)))?;
        Ok(())
    }

    fn list_records(&self) -> Result<Vec<Eh>, StoreError> {
        let mut out = Vec::new();
        for shard in read_dir_names(&self.records_dir())? {
            for name in read_dir_names(&self.records_dir().join(&shard))? {
                if let Some(eh) = parse_eh(&name) {
                    out.push(eh);
                }
            }
        }
        Ok(out)
    }

    fn record_modified(&self, eh: &Eh) -> Result<Option<u64>, StoreError> {
        let modified = match fs::metadata(self.record_path(eh)) {
            Ok(m) => m.modified()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(Some(
            modified
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        ))
    }

    fn list_uploads(&self) -> Result<Vec<UploadId>, StoreError> {
        Ok(read_dir_names(&self.uploads_dir())?
            .iter()
            .filter_map(|name| UploadId::parse(name))
            .collect())
    }

    fn clean_temporary(&self) -> Result<u64, StoreError> {
        let mut removed = 0;
        for name in read_dir_names(&self.tmp_dir())? {
            ignore_missing(fs::remove_file(self.tmp_dir().join(name)))?;
            removed += 1;
        }
        Ok(removed)
    }

    fn free_bytes(&self) -> Option<u64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crashed_part_write_leaves_a_temporary_file_that_start_up_removes() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let id = UploadId([2; 16]);
        // A crash: the writer is never dropped, so its file stays.
        let w = store.part_writer(&id, 0).unwrap();
        std::mem::forget(w);
        assert!(store.list_parts(&id).unwrap().is_empty());
        assert_eq!(store.clean_temporary().unwrap(), 1);
        assert_eq!(store.clean_temporary().unwrap(), 0);
    }
}
