//! Opening input files: gzip is recognised by its magic bytes, and a file read as one document
//! is read only up to its size limit.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

/// The two bytes every gzip member starts with (RFC 1952, section 2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Size of the read buffer in front of files and decompressors.
const READ_BUFFER_NUM_BYTES: usize = 256 * 1024;

/// A decompressed input stream.
pub(crate) type Input = Box<dyn BufRead + Send>;

/// Opens `path` for reading, decompressing it when it starts with the gzip magic bytes.
///
/// Concatenated gzip members (as `cat a.gz b.gz` or parallel compressors write) are read as
/// one stream.
///
/// # Errors
/// Fails when the file cannot be opened or its first bytes cannot be read.
pub(crate) fn open(path: &Path) -> io::Result<Input> {
    let mut file = File::open(path)?;
    let first_bytes = read_first_bytes(&mut file, GZIP_MAGIC.len())?;
    let is_gzip = first_bytes == GZIP_MAGIC;
    let whole_file = io::Cursor::new(first_bytes).chain(file);
    if is_gzip {
        let compressed = BufReader::with_capacity(READ_BUFFER_NUM_BYTES, whole_file);
        let decoder = MultiGzDecoder::new(compressed);
        return Ok(Box::new(BufReader::with_capacity(
            READ_BUFFER_NUM_BYTES,
            decoder,
        )));
    }
    Ok(Box::new(BufReader::with_capacity(
        READ_BUFFER_NUM_BYTES,
        whole_file,
    )))
}

/// Reads the first `num_bytes` of `file`, or all of it when it is shorter.
fn read_first_bytes(file: &mut File, num_bytes: usize) -> io::Result<Vec<u8>> {
    let mut first_bytes = Vec::with_capacity(num_bytes);
    file.by_ref()
        .take(num_bytes as u64)
        .read_to_end(&mut first_bytes)?;
    Ok(first_bytes)
}

/// Why a document could not be read whole.
#[derive(Debug)]
pub(crate) enum DocumentError {
    /// The file could not be read.
    Io(io::Error),
    /// The document is larger than allowed; the message is the reject reason.
    TooLarge(String),
}

/// Reads all of `path` (decompressed) into memory, unless it is over `max_num_bytes`.
///
/// # Errors
/// Fails when the file cannot be read or is over the limit.
pub(crate) fn read_document(path: &Path, max_num_bytes: usize) -> Result<Vec<u8>, DocumentError> {
    let file_num_bytes = std::fs::metadata(path).map_err(DocumentError::Io)?.len();
    let input = open(path).map_err(DocumentError::Io)?;

    let mut bytes = Vec::new();
    let limit = (max_num_bytes as u64).saturating_add(1);
    input
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(DocumentError::Io)?;
    if bytes.len() > max_num_bytes {
        return Err(DocumentError::TooLarge(too_large_reason(
            file_num_bytes,
            max_num_bytes,
        )));
    }
    Ok(bytes)
}

/// Returns the reject reason for a document over `max_num_bytes`, given its file size.
pub(crate) fn too_large_reason(file_num_bytes: u64, max_num_bytes: usize) -> String {
    if file_num_bytes > max_num_bytes as u64 {
        format!("document is {file_num_bytes} bytes, over the limit of {max_num_bytes}")
    } else {
        format!("document is over the limit of {max_num_bytes} bytes once decompressed")
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    fn read_to_string(path: &Path) -> String {
        let mut text = String::new();
        open(path).unwrap().read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn plain_and_gzip_files_read_the_same_whatever_their_name() {
        let directory = tempfile::tempdir().unwrap();
        let plain_path = directory.path().join("records.gz");
        std::fs::write(&plain_path, "plain text\n").unwrap();
        let gzip_path = directory.path().join("records.jsonl");
        let mut encoder = GzEncoder::new(File::create(&gzip_path).unwrap(), Compression::fast());
        encoder.write_all(b"compressed text\n").unwrap();
        encoder.finish().unwrap();

        assert_eq!(read_to_string(&plain_path), "plain text\n");
        assert_eq!(read_to_string(&gzip_path), "compressed text\n");
    }

    #[test]
    fn concatenated_gzip_members_are_one_stream() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("two-members");
        let mut file = File::create(&path).unwrap();
        for text in [&b"one\n"[..], b"two\n"] {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
            encoder.write_all(text).unwrap();
            file.write_all(&encoder.finish().unwrap()).unwrap();
        }
        drop(file);

        assert_eq!(read_to_string(&path), "one\ntwo\n");
    }

    #[test]
    fn empty_and_one_byte_files_open() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("short");
        std::fs::write(&path, "").unwrap();
        assert_eq!(read_to_string(&path), "");
        std::fs::write(&path, [0x1f]).unwrap();
        assert_eq!(read_to_string(&path), "\u{1f}");
    }

    #[test]
    fn document_over_the_limit_is_refused() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("doc.json");
        std::fs::write(&path, "0123456789").unwrap();

        assert_eq!(read_document(&path, 10).unwrap(), b"0123456789");
        let Err(DocumentError::TooLarge(reason)) = read_document(&path, 9) else {
            panic!("a 10-byte document passed a 9-byte limit");
        };
        assert_eq!(reason, "document is 10 bytes, over the limit of 9");
    }
}
