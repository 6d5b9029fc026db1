//! Reading a request body: whole, within `--max-body`, `--client-timeout`
//! and the buffered-bytes budget, before any component runs.

use bytes::{Bytes, BytesMut};
use http::header;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::config::Config;
use crate::limits::{Refused, Reservation};
use crate::refusal::Refusal;

/// Buffers the body (up to `--max-body`) so a component never waits on a
/// slow client, and so oversized bodies are refused before it runs. Every
/// byte is reserved in the budget before it is buffered: a declared
/// Content-Length up front, a chunked body chunk by chunk.
pub async fn read(
    request: http::Request<Incoming>,
    config: &Config,
    mut reservation: Reservation,
) -> Result<(http::Request<Bytes>, Reservation), Refusal> {
    let max = config.max_body_bytes;
    let declared = declared_length(request.headers(), max)?;
    if let Some(len) = declared {
        reservation.grow(len).map_err(over_budget)?;
    }
    let (parts, mut body) = request.into_parts();
    let mut buffer = BytesMut::with_capacity(declared.unwrap_or(0));
    let read = async {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return Err(Refusal::BodyUnreadable);
            };
            // Trailers carry nothing a component reads.
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if buffer.len() + data.len() > max {
                return Err(Refusal::BodyTooLarge { max });
            }
            if declared.is_none() {
                reservation.grow(data.len()).map_err(over_budget)?;
            }
            buffer.extend_from_slice(&data);
        }
        Ok(())
    };
    match tokio::time::timeout(config.client_timeout, read).await {
        Ok(Ok(())) => Ok((
            http::Request::from_parts(parts, buffer.freeze()),
            reservation,
        )),
        Ok(Err(refusal)) => Err(refusal),
        Err(_) => Err(Refusal::BodyTooSlow),
    }
}

/// The declared Content-Length, if there is a readable one; one over `max`
/// is refused before a byte is read.
fn declared_length(headers: &http::HeaderMap, max: usize) -> Result<Option<usize>, Refusal> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared.map(usize::try_from) {
        Some(Ok(len)) if len <= max => Ok(Some(len)),
        Some(_) => Err(Refusal::BodyTooLarge { max }),
        None => Ok(None),
    }
}

/// The answer to a body the buffered-bytes budget has no room for: at once,
/// before the body is read.
fn over_budget(refused: Refused) -> Refusal {
    match refused {
        Refused::Busy => Refusal::BodiesInMemory,
        Refused::CallerBusy => Refusal::CallerBodiesInMemory,
    }
}
