//! Building the responses the host sends: a JSON body, or a component's
//! answer (held whole in memory) handed to hyper.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// `body` as `application/json` with `status`.
pub fn json(status: StatusCode, body: &Value) -> Response<Bytes> {
    let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
    let mut response = Response::new(bytes);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A response whose body is all in memory, as hyper sends it.
pub fn send(response: Response<Bytes>) -> Response<HyperOutgoingBody> {
    response.map(|bytes| {
        Full::new(bytes)
            .map_err(|never| match never {})
            .boxed_unsync()
    })
}
