//! Cutting messages and requests, in both formats.

use super::{Codec, MessageKind, RawCall};
use crate::wire::{CodecError, Value};

fn codecs() -> [Codec; 2] {
    [Codec::msgpack(), Codec::json()]
}

/// Encodes a request and cuts it as the dispatcher does.
fn split_with<'a>(codec: &Codec, payload: &'a [u8]) -> Result<RawCall<'a>, CodecError> {
    let msg = codec.parse_message(payload)?;
    codec.split_request(payload, msg.content)
}

fn request(codec: &Codec, content: &impl serde::Serialize) -> Vec<u8> {
    codec
        .encode_message(MessageKind::Request, 3, content)
        .unwrap()
}

#[test]
fn a_request_is_cut_into_path_args_and_kwargs_without_decoding_them() {
    for codec in codecs() {
        let kwargs = Value::Map(vec![
            (Value::from("b"), Value::from(5)),
            (Value::from("c"), Value::from(vec![Value::Nil])),
        ]);
        let payload = request(&codec, &("sub/mul", (3, "x"), &kwargs));
        let call = split_with(&codec, &payload).unwrap();
        assert_eq!(call.path, "sub/mul");
        let args: Vec<Value> = call.args.iter().map(|a| codec.decode(a).unwrap()).collect();
        assert_eq!(args, [Value::from(3), Value::from("x")]);
        let keys: Vec<&str> = call.kwargs.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["b", "c"], "{codec:?}");
        assert_eq!(codec.decode::<i64>(call.kwargs[0].1).unwrap(), 5);
        // Joining them again gives what the peer would have sent as one array / map.
        let joined: Vec<Value> = codec.decode(&codec.join_array(&call.args)).unwrap();
        assert_eq!(joined, args);
        let map: Value = codec.decode(&codec.join_map(&call.kwargs)).unwrap();
        assert_eq!(map, kwargs);
    }
}

#[test]
fn a_request_content_of_the_wrong_shape_is_an_error_that_says_which_part() {
    for codec in codecs() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                request(&codec, &5),
                "request content must be [path, args, kwargs], got int",
            ),
            (request(&codec, &("add", [1])), "got an array of 2 elements"),
            (
                request(&codec, &(7, [1], Value::Map(vec![]))),
                "request path must be a str, got int",
            ),
            (
                request(&codec, &("add", 1, Value::Map(vec![]))),
                "request args must be an array, got int",
            ),
            (
                request(&codec, &("add", [1], [2])),
                "request kwargs must be a map, got array",
            ),
        ];
        for (payload, expected) in cases {
            match split_with(&codec, &payload) {
                Err(CodecError::InvalidMessage(m)) => {
                    assert!(
                        m.contains(expected),
                        "{codec:?}: {m:?} should say {expected:?}"
                    )
                }
                other => panic!("{codec:?}: expected an invalid message, got {other:?}"),
            }
        }
    }
    // JSON writes every key as a string; msgpack can carry others.
    let msgpack = Codec::msgpack();
    let key = Value::Map(vec![(Value::from(1), Value::from(2))]);
    let payload = request(&msgpack, &("add", [1], key));
    match split_with(&msgpack, &payload) {
        Err(CodecError::InvalidMessage(m)) => {
            assert!(m.contains("keywords must be strings"), "{m}")
        }
        other => panic!("expected an invalid message, got {other:?}"),
    }
}

#[test]
fn json_reads_floats_with_one_set_of_rules() {
    let json = Codec::json();
    // Python's json reads both as infinity; once only the second did.
    let alone: Vec<f64> = json.decode(b"[1e400]").unwrap();
    let mixed: Vec<f64> = json.decode(b"[NaN, 1e400]").unwrap();
    assert_eq!(alone, [f64::INFINITY]);
    assert!(mixed[0].is_nan() && mixed[1] == f64::INFINITY);
    // ... and arguments are cut with the same reader.
    let payload = b"[0, 1, [\"f\", [NaN, -Infinity, 1e400, 2e-28], {}]]";
    let call = split_with(&json, payload).unwrap();
    let args: Vec<f64> = call.args.iter().map(|a| json.decode(a).unwrap()).collect();
    assert!(args[0].is_nan());
    assert_eq!(&args[1..], [f64::NEG_INFINITY, f64::INFINITY, 2e-28]);
}

#[test]
fn cutting_random_and_mutated_requests_never_panics() {
    let mut rng = fastrand::Rng::with_seed(0x2545_f491_4f6c_dd1d);
    let mut next = move || rng.u64(..);
    for codec in codecs() {
        let good = request(
            &codec,
            &(
                "a/b",
                (1, "two", [3.5]),
                Value::Map(vec![(Value::from("k"), Value::Nil)]),
            ),
        );
        for _ in 0..20_000 {
            let mut payload = good.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % payload.len();
                match next() % 3 {
                    0 => payload[at] = next() as u8,
                    1 => {
                        payload.remove(at);
                    }
                    _ => payload.truncate(at),
                }
                if payload.is_empty() {
                    break;
                }
            }
            let _ = split_with(&codec, &payload);
            let _ = codec.parse_request(&payload);
            let _ = codec.salvage_request_id(&payload);
            let _ = codec.decode_message(&payload);
        }
    }
}

#[test]
fn the_id_of_a_malformed_request_is_salvaged_so_it_can_be_answered() {
    let json = Codec::json();
    assert_eq!(json.salvage_request_id(b"[0, 17, [\"x\", 5]]"), Some(4..6));
    assert_eq!(json.salvage_request_id(b"[1, 17, 3]"), None);
    assert_eq!(json.salvage_request_id(b"[0, 17, [\"x\""), Some(4..6));
    let mp = Codec::msgpack();
    assert_eq!(mp.salvage_request_id(&[0x93, 0x00, 0x11, 0x05]), Some(2..3));
    assert_eq!(mp.salvage_request_id(&[0x93, 0x01, 0x11, 0x05]), None);
}

#[test]
fn ids_are_read_as_numbers_when_they_are_non_negative_integers() {
    for codec in codecs() {
        let cases: [(Value, Option<u64>); 6] = [
            (Value::from(7), Some(7)),
            (Value::from(1u64 << 40), Some(1 << 40)),
            (Value::from(u64::MAX), Some(u64::MAX)),
            (Value::from(-1), None),
            (Value::from("7"), None),
            (Value::Float(7.0), None),
        ];
        for (id, expected) in cases {
            let payload = codec.encode(&(1, &id, 3)).unwrap();
            let msg = codec.parse_message(&payload).unwrap();
            assert_eq!(msg.id_num, expected, "{codec:?} {id:?}");
            assert_eq!(codec.decode::<Value>(&payload[msg.id]).unwrap(), id);
        }
    }
}

#[test]
fn a_reply_is_cut_without_its_content_being_checked_until_it_is_decoded() {
    let codec = Codec::msgpack();
    // [1, 5, <a str header announcing 9 bytes, and 2 bytes>]
    let payload = [0x93, 0x01, 0x05, 0xa9, b'h', b'i'];
    assert!(codec.parse_message(&payload).is_err(), "checked in full");
    let msg = codec.parse_message_lazily(&payload, true).unwrap();
    assert_eq!((msg.kind, msg.id_num), (1, Some(5)));
    assert!(codec.decode_slice::<Value>(&payload[msg.content]).is_err());
    // A request is checked when asked to: it goes to a handler that would not look.
    let request = [0x93, 0x00, 0x05, 0xa9, b'h', b'i'];
    assert!(codec.parse_message_lazily(&request, true).is_err());
    assert!(codec.parse_message_lazily(&request, false).is_ok());
}
