//! Hand-made MsgPackBlosc payloads, for the suites that check what a hostile one gets.

/// A blosc 1 header (format 2, blosclz 1, shuffled, typesize 8) claiming `nbytes` once
/// decompressed, padded with zeros to the `cbytes` it claims in all.
pub fn claiming(nbytes: u32, cbytes: u32) -> Vec<u8> {
    let mut b = vec![2, 1, 0x01, 8];
    b.extend_from_slice(&nbytes.to_le_bytes());
    b.extend_from_slice(&65_536u32.to_le_bytes());
    b.extend_from_slice(&cbytes.to_le_bytes());
    b.resize(cbytes as usize, 0);
    b
}
