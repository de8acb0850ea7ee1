//! Wire format of gossip payloads: what lets the runner measure latency and check exactly-once.
//!
//! ```text
//! byte 0      format version (1)
//! bytes 1..9  per-publisher sequence number, u64 big-endian, starting at 0
//! bytes 9..17 publisher's send time, unix nanoseconds, u64 big-endian
//! bytes 17..19 length L of the runner's message id, u16 big-endian
//! next L      the runner's message id, UTF-8
//! rest        zero padding up to the requested size
//! ```
//!
//! The publisher's identity is not in the payload: gossipsub signs messages, so the verified
//! `source` field names it.

/// Version byte of the current format.
pub const FORMAT_VERSION: u8 = 1;
/// Bytes before the message id.
const FIXED_HEADER_LEN: usize = 1 + 8 + 8 + 2;

/// The measured facts a gossip payload carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GossipHeader {
    /// Per-publisher sequence number.
    pub seq: u64,
    /// Publisher's send time, unix nanoseconds.
    pub sent_ns: u64,
    /// Message id chosen by the runner (free text, at most 65,535 bytes).
    pub id: String,
}

/// Why a payload could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    /// Fewer bytes than the header needs.
    #[error("payload of {0} bytes is shorter than its header")]
    Truncated(usize),
    /// Written by a format this node does not know.
    #[error("payload format version {0} is not supported (expected {FORMAT_VERSION})")]
    UnknownVersion(u8),
    /// The id bytes are not UTF-8.
    #[error("payload message id is not UTF-8")]
    IdNotUtf8,
    /// The id is longer than the format can describe.
    #[error("message id of {0} bytes is longer than 65535")]
    IdTooLong(usize),
}

impl GossipHeader {
    /// Size of the header alone; a payload is never smaller.
    pub fn encoded_len(&self) -> usize {
        FIXED_HEADER_LEN + self.id.len()
    }

    /// Encodes the header and pads with zeros to `size` bytes (or to the header length if larger).
    pub fn encode(&self, size: usize) -> Result<Vec<u8>, PayloadError> {
        let id_len =
            u16::try_from(self.id.len()).map_err(|_| PayloadError::IdTooLong(self.id.len()))?;
        let mut out = Vec::with_capacity(size.max(self.encoded_len()));
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.sent_ns.to_be_bytes());
        out.extend_from_slice(&id_len.to_be_bytes());
        out.extend_from_slice(self.id.as_bytes());
        out.resize(size.max(out.len()), 0);
        Ok(out)
    }

    /// Reads the header of a payload, ignoring the padding.
    pub fn decode(payload: &[u8]) -> Result<Self, PayloadError> {
        if payload.len() < FIXED_HEADER_LEN {
            return Err(PayloadError::Truncated(payload.len()));
        }
        if payload[0] != FORMAT_VERSION {
            return Err(PayloadError::UnknownVersion(payload[0]));
        }
        let u64_at =
            |at: usize| u64::from_be_bytes(payload[at..at + 8].try_into().expect("8 bytes"));
        let id_len = u16::from_be_bytes([payload[17], payload[18]]) as usize;
        let id_bytes = payload
            .get(FIXED_HEADER_LEN..FIXED_HEADER_LEN + id_len)
            .ok_or(PayloadError::Truncated(payload.len()))?;
        let id = std::str::from_utf8(id_bytes)
            .map_err(|_| PayloadError::IdNotUtf8)?
            .to_owned();
        Ok(Self {
            seq: u64_at(1),
            sent_ns: u64_at(9),
            id,
        })
    }
}

/// What a node records for one received gossip message: the header read from `payload`,
/// the verified publisher and the receive time.
pub fn received(
    payload: &[u8],
    publisher: String,
    received_ns: u64,
) -> Result<crate::api::ReceivedMessage, PayloadError> {
    let header = GossipHeader::decode(payload)?;
    Ok(crate::api::ReceivedMessage {
        id: header.id,
        publisher,
        seq: header.seq,
        sent_ns: header.sent_ns,
        received_ns,
        size: payload.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> GossipHeader {
        GossipHeader {
            seq: 7,
            sent_ns: 1_700_000_000_123_456_789,
            id: "msg-42".into(),
        }
    }

    #[test]
    fn round_trips_and_pads_to_size() {
        let bytes = header().encode(1024).unwrap();
        assert_eq!(bytes.len(), 1024);
        assert_eq!(GossipHeader::decode(&bytes).unwrap(), header());
    }

    #[test]
    fn never_truncates_below_header() {
        let bytes = header().encode(0).unwrap();
        assert_eq!(bytes.len(), header().encoded_len());
        assert_eq!(GossipHeader::decode(&bytes).unwrap(), header());
    }

    #[test]
    fn rejects_short_and_foreign_payloads() {
        assert_eq!(
            GossipHeader::decode(&[1, 2, 3]),
            Err(PayloadError::Truncated(3))
        );
        let mut bytes = header().encode(64).unwrap();
        bytes[0] = 9;
        assert_eq!(
            GossipHeader::decode(&bytes),
            Err(PayloadError::UnknownVersion(9))
        );
        let mut bytes = header().encode(0).unwrap();
        bytes.truncate(bytes.len() - 1);
        assert!(matches!(
            GossipHeader::decode(&bytes),
            Err(PayloadError::Truncated(_))
        ));
    }
}
