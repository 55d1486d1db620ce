//! A line reader that never buffers more than a set number of bytes of one line, so a
//! gigabyte-long line costs a skip instead of a gigabyte of memory.

use std::io::{self, BufRead};

/// What [`BoundedLineReader::read_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    /// The line is in the buffer, without its `\n` or `\r\n`.
    Complete {
        /// 1-based line number.
        number: u64,
    },
    /// The line was longer than the limit; it was skipped and the buffer is empty.
    Oversized {
        /// 1-based line number.
        number: u64,
        /// Length of the line without its line ending.
        num_bytes: u64,
    },
}

/// Reads `\n`-terminated lines, keeping at most `max_line_num_bytes` of each.
#[derive(Debug)]
pub(crate) struct BoundedLineReader<R> {
    reader: R,
    max_line_num_bytes: usize,
    num_lines_read: u64,
}

impl<R: BufRead> BoundedLineReader<R> {
    /// Returns a reader of `reader`'s lines that rejects lines over `max_line_num_bytes`.
    pub(crate) fn new(reader: R, max_line_num_bytes: usize) -> Self {
        Self {
            reader,
            max_line_num_bytes,
            num_lines_read: 0,
        }
    }

    /// Number of the last line returned, 0 before the first.
    pub(crate) fn num_lines_read(&self) -> u64 {
        self.num_lines_read
    }

    /// Reads the next line into `buffer`, replacing its contents; `None` at the end of input.
    ///
    /// A line over the limit is consumed to its end without being kept. A final line without
    /// a `\n` is still a line.
    ///
    /// # Errors
    /// Fails when the underlying reader fails; the line being read is then lost.
    pub(crate) fn read_line(&mut self, buffer: &mut Vec<u8>) -> io::Result<Option<Line>> {
        buffer.clear();
        // One byte of slack so that a `\r` before the `\n` does not count against the limit.
        let max_buffered_num_bytes = self.max_line_num_bytes.saturating_add(1);
        let mut line_num_bytes: u64 = 0;
        let mut is_oversized = false;
        let mut has_read_anything = false;

        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if available.is_empty() {
                if !has_read_anything {
                    return Ok(None);
                }
                break;
            }
            has_read_anything = true;

            let newline_position = available.iter().position(|&byte| byte == b'\n');
            let content = &available[..newline_position.unwrap_or(available.len())];
            line_num_bytes += content.len() as u64;
            if !is_oversized {
                if buffer.len() + content.len() > max_buffered_num_bytes {
                    is_oversized = true;
                    buffer.clear();
                    buffer.shrink_to(max_buffered_num_bytes);
                } else {
                    buffer.extend_from_slice(content);
                }
            }
            let num_consumed = content.len() + usize::from(newline_position.is_some());
            self.reader.consume(num_consumed);
            if newline_position.is_some() {
                break;
            }
        }

        self.num_lines_read += 1;
        let number = self.num_lines_read;
        if !is_oversized && buffer.last() == Some(&b'\r') {
            buffer.pop();
            line_num_bytes -= 1;
        }
        if is_oversized || buffer.len() > self.max_line_num_bytes {
            buffer.clear();
            return Ok(Some(Line::Oversized {
                number,
                num_bytes: line_num_bytes,
            }));
        }
        Ok(Some(Line::Complete { number }))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufReader, Read};

    use super::*;

    fn read_all(input: &[u8], max_line_num_bytes: usize) -> Vec<(Line, String)> {
        // A tiny buffer makes every line span several `fill_buf` calls.
        let mut reader =
            BoundedLineReader::new(BufReader::with_capacity(3, input), max_line_num_bytes);
        let mut buffer = Vec::new();
        let mut lines = Vec::new();
        while let Some(line) = reader.read_line(&mut buffer).unwrap() {
            lines.push((line, String::from_utf8(buffer.clone()).unwrap()));
        }
        lines
    }

    fn complete(number: u64, text: &str) -> (Line, String) {
        (Line::Complete { number }, text.to_string())
    }

    #[test]
    fn splits_lines_and_strips_line_endings() {
        let lines = read_all(b"first\r\nsecond\n\nlast", 100);
        assert_eq!(
            lines,
            vec![
                complete(1, "first"),
                complete(2, "second"),
                complete(3, ""),
                complete(4, "last")
            ]
        );
    }

    #[test]
    fn final_newline_does_not_make_an_extra_line() {
        assert_eq!(
            read_all(b"a\nb\n", 100),
            vec![complete(1, "a"), complete(2, "b")]
        );
        assert_eq!(read_all(b"", 100), vec![]);
    }

    #[test]
    fn line_at_the_limit_is_kept_and_one_byte_over_is_skipped() {
        let lines = read_all(b"12345\r\n123456\nok", 5);
        assert_eq!(
            lines,
            vec![
                complete(1, "12345"),
                (
                    Line::Oversized {
                        number: 2,
                        num_bytes: 6
                    },
                    String::new()
                ),
                complete(3, "ok"),
            ]
        );
    }

    /// An endless source of `x` bytes with a newline after `num_bytes`, then `after`.
    struct LongLine {
        num_bytes_left: u64,
        after: &'static [u8],
    }

    impl Read for LongLine {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.num_bytes_left == 0 {
                let num = self.after.len().min(out.len());
                out[..num].copy_from_slice(&self.after[..num]);
                self.after = &self.after[num..];
                return Ok(num);
            }
            let num = (self.num_bytes_left as usize).min(out.len());
            out[..num].fill(b'x');
            self.num_bytes_left -= num as u64;
            Ok(num)
        }
    }

    #[test]
    fn huge_line_is_skipped_without_being_buffered() {
        let source = LongLine {
            num_bytes_left: 64 << 20,
            after: b"\nnext\n",
        };
        let mut reader = BoundedLineReader::new(BufReader::new(source), 1024);
        let mut buffer = Vec::new();

        let first = reader.read_line(&mut buffer).unwrap();
        assert_eq!(
            first,
            Some(Line::Oversized {
                number: 1,
                num_bytes: 64 << 20
            })
        );
        assert!(
            buffer.capacity() <= 2048,
            "buffer grew to {} bytes",
            buffer.capacity()
        );
        assert_eq!(
            reader.read_line(&mut buffer).unwrap(),
            Some(Line::Complete { number: 2 })
        );
        assert_eq!(buffer, b"next");
        assert_eq!(reader.read_line(&mut buffer).unwrap(), None);
    }
}
