//! Reading Server-Sent Events (the task event stream) from bytes as they arrive.

/// One event of a stream: its `id:`, `event:` (default `message`) and `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseFrame {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

/// Splits a byte stream into events; comments (keep-alives) are dropped.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: String,
}

impl SseParser {
    /// Adds bytes and answers the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseFrame> {
        self.buffer
            .push_str(&String::from_utf8_lossy(bytes).replace('\r', ""));
        let mut frames = Vec::new();
        while let Some(end) = self.buffer.find("\n\n") {
            let block: String = self.buffer.drain(..end + 2).collect();
            let mut frame = SseFrame {
                id: None,
                event: "message".into(),
                data: String::new(),
            };
            let mut has_data = false;
            for line in block.lines() {
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "id" => frame.id = Some(value.to_string()),
                    "event" => frame.event = value.to_string(),
                    "data" => {
                        if has_data {
                            frame.data.push('\n');
                        }
                        frame.data.push_str(value);
                        has_data = true;
                    }
                    _ => {}
                }
            }
            if has_data {
                frames.push(frame);
            }
        }
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_events_across_chunks_and_drops_comments() {
        let mut parser = SseParser::default();
        assert!(parser
            .push(b": keep-alive\n\nid: 4\nevent: log\nda")
            .is_empty());
        let frames = parser.push(b"ta: {\"a\":1}\n\nevent: end\ndata: x\ndata: y\n\n");
        assert_eq!(
            frames,
            vec![
                SseFrame {
                    id: Some("4".into()),
                    event: "log".into(),
                    data: "{\"a\":1}".into()
                },
                SseFrame {
                    id: None,
                    event: "end".into(),
                    data: "x\ny".into()
                },
            ]
        );
    }
}
