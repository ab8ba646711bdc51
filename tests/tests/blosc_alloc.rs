//! A MsgPackBlosc payload whose blosc header claims a huge decompressed size is refused before
//! anything is allocated for it.
//!
//! This binary counts every allocation (stats_alloc as the global allocator) and holds this one
//! test only, so that nothing else allocates while it measures: it cannot be a module of `it/`.

use std::alloc::System;

use rpc_core::wire::frame::DEFAULT_MAX_FRAME_LEN;
use rpc_core::{Codec, CodecError};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tests::blosc::claiming;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn a_payload_claiming_a_huge_size_is_refused_before_anything_is_allocated() {
    let codec = Codec::msgpack_blosc();
    // 2 GiB less 17 bytes: the most c-blosc itself would accept.
    let frame = claiming(2_147_483_631, 64);
    let region = Region::new(GLOBAL);
    let err = codec.decode_message(&frame).unwrap_err();
    let refused = region.change();
    assert_eq!(
        err,
        CodecError::DecompressedTooLarge {
            len: 2_147_483_631,
            limit: DEFAULT_MAX_FRAME_LEN
        }
    );
    assert_eq!(
        err.to_string(),
        "a compressed message claims to decompress to 2147483631 bytes, over the maximum \
         message length of 16777216 bytes"
    );
    assert!(
        refused.bytes_allocated < 4096,
        "refusing the frame allocated {} bytes",
        refused.bytes_allocated
    );
    // The same measure sees an allocation for a claim within the limit (which is then found
    // corrupt): the check above is not blind.
    let region = Region::new(GLOBAL);
    let err = codec.decode_message(&claiming(1 << 20, 64)).unwrap_err();
    let allowed = region.change();
    assert!(matches!(err, CodecError::Decompress(_)), "{err:?}");
    assert!(
        allowed.bytes_allocated >= 1 << 20,
        "{}",
        allowed.bytes_allocated
    );
}
