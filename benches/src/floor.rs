//! The floor: the same wire format (4-byte big-endian length, MsgPack `[0, id, [name, args, {}]]`
//! requests and `[1, id, result]` replies) with no RPC layer at all. The server parses each frame
//! with `rmp`'s low-level functions and writes all replies to one read's frames in one write; the
//! client keeps its window full from one task and writes all new requests in one write.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, BytesMut};
use rmp::decode::{read_array_len, read_bin_len, read_int, read_str_len};
use rmp::encode::{write_array_len, write_bin, write_map_len, write_sint, write_str, write_uint};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::driver::{payload, TaskResult, Window};
use crate::{Op, Workload};

const READ_BUF: usize = 64 * 1024;

/// Appends one framed request `[0, id, [name, args, {}]]`.
pub fn encode_request(out: &mut Vec<u8>, id: u64, op: Op, a: i64, data: &[u8]) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    write_array_len(out, 3).unwrap();
    write_uint(out, 0).unwrap();
    write_uint(out, id).unwrap();
    write_array_len(out, 3).unwrap();
    match op {
        Op::Add => {
            write_str(out, "add").unwrap();
            write_array_len(out, 2).unwrap();
            write_sint(out, a).unwrap();
            write_sint(out, 1).unwrap();
        }
        Op::Echo => {
            write_str(out, "echo").unwrap();
            write_array_len(out, 1).unwrap();
            write_bin(out, data).unwrap();
        }
    }
    write_map_len(out, 0).unwrap();
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Answers one request frame, appending the framed reply.
fn answer(frame: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let bad = |what: &str| format!("floor server: bad request ({what})");
    let mut r = frame;
    if read_array_len(&mut r).map_err(|_| bad("message"))? != 3
        || read_int::<u8, _>(&mut r).map_err(|_| bad("type"))? != 0
    {
        return Err(bad("not a request"));
    }
    let id: u64 = read_int(&mut r).map_err(|_| bad("id"))?;
    read_array_len(&mut r).map_err(|_| bad("content"))?;
    let n = read_str_len(&mut r).map_err(|_| bad("name"))? as usize;
    let (name, mut r) = r.split_at(n);
    read_array_len(&mut r).map_err(|_| bad("args"))?;
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    write_array_len(out, 3).unwrap();
    write_uint(out, 1).unwrap();
    write_uint(out, id).unwrap();
    match name {
        b"add" => {
            let a: i64 = read_int(&mut r).map_err(|_| bad("a"))?;
            let b: i64 = read_int(&mut r).map_err(|_| bad("b"))?;
            write_sint(out, a + b).unwrap();
        }
        b"echo" => {
            let n = read_bin_len(&mut r).map_err(|_| bad("data"))? as usize;
            write_bin(out, &r[..n]).unwrap();
        }
        _ => return Err(bad("unknown name")),
    }
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Cuts the next complete frame off `buf`, if there is one.
fn next_frame(buf: &mut BytesMut) -> Option<BytesMut> {
    if buf.len() < 4 {
        return None;
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if buf.len() < 4 + len {
        buf.reserve(4 + len - buf.len());
        return None;
    }
    buf.advance(4);
    Some(buf.split_to(len))
}

/// Serves one connection until the peer closes it.
pub async fn serve_conn<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> Result<(), String> {
    let mut rbuf = BytesMut::with_capacity(READ_BUF);
    let mut wbuf = Vec::with_capacity(READ_BUF);
    loop {
        if stream
            .read_buf(&mut rbuf)
            .await
            .map_err(|e| e.to_string())?
            == 0
        {
            return Ok(());
        }
        while let Some(frame) = next_frame(&mut rbuf) {
            answer(&frame, &mut wbuf)?;
        }
        if !wbuf.is_empty() {
            stream.write_all(&wbuf).await.map_err(|e| e.to_string())?;
            wbuf.clear();
        }
        if rbuf.capacity() < 4096 {
            rbuf.reserve(READ_BUF);
        }
    }
}

/// Checks one reply frame `[1, id, result]`.
fn check_reply(frame: &[u8], op: Op, expect_add: i64, expect_len: usize) -> Result<(), String> {
    let bad = |what: &str| format!("floor client: bad reply ({what})");
    let mut r = frame;
    if read_array_len(&mut r).map_err(|_| bad("message"))? != 3
        || read_int::<u8, _>(&mut r).map_err(|_| bad("type"))? != 1
    {
        return Err(bad("not a result"));
    }
    let _id: u64 = read_int(&mut r).map_err(|_| bad("id"))?;
    match op {
        Op::Add => {
            let v: i64 = read_int(&mut r).map_err(|_| bad("sum"))?;
            if v != expect_add {
                return Err(bad("wrong sum"));
            }
        }
        Op::Echo => {
            if read_bin_len(&mut r).map_err(|_| bad("data"))? as usize != expect_len {
                return Err(bad("wrong length"));
            }
        }
    }
    Ok(())
}

/// Runs one connection's share of a workload: keeps `inflight` requests outstanding until the
/// window stops. The server answers in order, so send times are kept in a queue.
pub async fn client_conn<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    w: Workload,
    window: Arc<Window>,
) -> Result<TaskResult, String> {
    client_calls(stream, w, window, u64::MAX).await
}

/// As [`client_conn`], but also stops after `max_calls` requests (for instruction counts).
pub async fn client_calls<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    w: Workload,
    window: Arc<Window>,
    max_calls: u64,
) -> Result<TaskResult, String> {
    let data = payload(&w);
    let mut rbuf = BytesMut::with_capacity(READ_BUF);
    let mut wbuf = Vec::with_capacity(READ_BUF);
    let mut sent: VecDeque<(Instant, i64)> = VecDeque::with_capacity(w.inflight);
    let (mut next_id, mut n, mut lats) = (0u64, 0u64, Vec::new());
    loop {
        if !window.stop.load(Ordering::Acquire) {
            while sent.len() < w.inflight && next_id < max_calls {
                let a = (next_id & 0xFFFF) as i64;
                encode_request(&mut wbuf, next_id, w.op, a, &data);
                sent.push_back((Instant::now(), a + 1));
                next_id += 1;
            }
        }
        if !wbuf.is_empty() {
            stream.write_all(&wbuf).await.map_err(|e| e.to_string())?;
            wbuf.clear();
        }
        if sent.is_empty() {
            return Ok((n, lats));
        }
        if stream
            .read_buf(&mut rbuf)
            .await
            .map_err(|e| e.to_string())?
            == 0
        {
            return Err("floor client: connection closed".into());
        }
        while let Some(frame) = next_frame(&mut rbuf) {
            let (t, expect) = sent.pop_front().ok_or("floor client: unexpected reply")?;
            check_reply(&frame, w.op, expect, data.len())?;
            if window.measuring.load(Ordering::Acquire) {
                n += 1;
                lats.push(t.elapsed().as_nanos() as u64);
            }
        }
        if rbuf.capacity() < 4096 {
            rbuf.reserve(READ_BUF);
        }
    }
}
