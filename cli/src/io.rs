//! I/O plumbing: the input, the all-or-nothing output and secret arguments.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use ehrchain::hex;
use ehrchain::record::RecordKey;

use crate::args::IoArgs;
use crate::failure::Failure;

/// The output: stdout, or a temporary file renamed into place by [`Sink::commit`].
pub(crate) enum Sink {
    /// Standard output, buffered.
    Stdout(io::BufWriter<io::Stdout>),
    /// A temporary file next to `path`, renamed onto it on commit.
    File {
        /// The open temporary file, buffered.
        file: io::BufWriter<fs::File>,
        /// The temporary file's path.
        tmp: PathBuf,
        /// The final output path.
        path: PathBuf,
        /// Whether the rename has happened (so Drop keeps the file).
        committed: bool,
    },
}

impl Sink {
    /// Opens stdout, or a temporary file beside `path` when one is given.
    fn open(path: Option<&Path>) -> io::Result<Self> {
        let Some(path) = path else {
            return Ok(Sink::Stdout(io::BufWriter::new(io::stdout())));
        };
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
        })?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.tmp", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let file = fs::File::create(&tmp)?;
        Ok(Sink::File {
            file: io::BufWriter::new(file),
            tmp,
            path: path.to_owned(),
            committed: false,
        })
    }

    /// Writes all of `bytes` to the output.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.write_all(bytes),
            Sink::File { file, .. } => file.write_all(bytes),
        }
    }

    /// Flushes the output; for a file, syncs it and renames it into place.
    fn commit(mut self) -> io::Result<()> {
        match &mut self {
            Sink::Stdout(w) => w.flush(),
            Sink::File {
                file,
                tmp,
                path,
                committed,
            } => {
                file.flush()?;
                file.get_ref().sync_all()?;
                fs::rename(&*tmp, &*path)?;
                *committed = true;
                Ok(())
            }
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Reached without `commit` only on failure: remove the partial file.
        if let Sink::File {
            tmp,
            committed: false,
            ..
        } = self
        {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// Opens the input: the file at `path`, or stdin.
pub(crate) fn open_input(path: Option<&Path>) -> io::Result<Box<dyn Read>> {
    Ok(match path {
        Some(p) => Box::new(fs::File::open(p)?),
        None => Box::new(io::stdin().lock()),
    })
}

/// Reads the whole input into memory.
pub(crate) fn read_all(path: Option<&Path>) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    open_input(path)?.read_to_end(&mut buf)?;
    Ok(buf)
}

/// Reads the whole input as UTF-8 text.
pub(crate) fn read_text(path: Option<&Path>) -> Result<String, Failure> {
    String::from_utf8(read_all(path)?).map_err(|_| Failure::Io("input is not UTF-8".into()))
}

/// Runs `produce` against the chosen output and commits it only on success.
pub(crate) fn with_output(
    io: &IoArgs,
    produce: impl FnOnce(&mut Sink) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut sink = Sink::open(io.output.as_deref())?;
    produce(&mut sink)?;
    sink.commit()?;
    Ok(())
}

/// Writes `text` and a newline as the whole output.
pub(crate) fn line(io: &IoArgs, text: &str) -> Result<(), Failure> {
    with_output(io, |out| Ok(out.write(format!("{text}\n").as_bytes())?))
}

/// Resolves a secret argument: `env:NAME` reads the environment variable,
/// `file:PATH` the first line of a file, anything else is the hex itself.
/// The first two keep secrets out of the process list and shell history.
pub(crate) fn secret_text(arg: &str) -> Result<zeroize::Zeroizing<String>, Failure> {
    if let Some(name) = arg.strip_prefix("env:") {
        let value = std::env::var(name)
            .map_err(|_| Failure::Io(format!("environment variable {name} is not set")))?;
        return Ok(zeroize::Zeroizing::new(value.trim().to_owned()));
    }
    if let Some(path) = arg.strip_prefix("file:") {
        let text = zeroize::Zeroizing::new(fs::read_to_string(path)?);
        return Ok(zeroize::Zeroizing::new(
            text.lines().next().unwrap_or("").trim().to_owned(),
        ));
    }
    Ok(zeroize::Zeroizing::new(arg.to_owned()))
}

/// Reads `--key`: a record key `K_P` in hex (or `env:`/`file:`), every copy zeroised.
pub(crate) fn record_key(arg: &str) -> Result<RecordKey, Failure> {
    let bytes = zeroize::Zeroizing::new(hex::decode("key", &secret_text(arg)?)?);
    Ok(RecordKey::from_bytes(&bytes)?)
}
